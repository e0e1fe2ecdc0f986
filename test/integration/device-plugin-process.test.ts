// The sample plugin as users run it (`mini-kubelet device-plugin sample`), in its own process:
// it registers, its control socket breaks a device, killing it makes its devices unhealthy,
// and starting it again registers it again.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { requireE2e } from '../helpers/e2e.ts';
import { sendControlCommand } from '../../src/device/control-socket.ts';
import { createDeviceManager, type DeviceManager } from '../../src/device/device-manager.ts';

const logger = pino({ level: 'silent' });
const FPGA = 'example.com/fpga';
const CLI = join(import.meta.dirname, '..', '..', 'bin', 'mini-kubelet.mjs');

function untilResources(manager: DeviceManager, check: (r: ReturnType<DeviceManager['resources']>) => boolean, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => { done = true; reject(new Error(`resources never matched: ${JSON.stringify(manager.resources())}`)); }, timeoutMs);
    const probe = () => {
      if (done || !check(manager.resources())) return;
      done = true;
      clearTimeout(timer);
      resolve();
    };
    manager.onChange(probe);
    probe();
  });
}

/** Starts the plugin process and resolves once it says it is serving. */
function startPluginProcess(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'device-plugin', 'sample', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`plugin did not start: ${stderr}`)); }, 20_000);
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('serving')) { clearTimeout(timer); resolve(child); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`plugin exited with ${code}: ${stderr}`)); });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('sample plugin process', { timeout: 60_000 }, () => {
  let dir: string;
  const children: ChildProcess[] = [];
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'mk-dp-proc-')); });
  after(async () => {
    for (const c of children) { c.kill('SIGKILL'); await exited(c); }
    await rm(dir, { recursive: true, force: true });
  });

  test('registers, reports health, goes unhealthy when killed and registers again when restarted', async (t) => {
    if (!requireE2e(t)) return; // mknod needs root
    const pluginDir = join(dir, 'device-plugins');
    const control = join(dir, 'control.sock');
    const manager = await createDeviceManager({ pluginDir, logger, endpointStopGraceMs: 60_000 });
    t.after(() => manager.stop());
    const args = ['--resource', FPGA, '--count', '2', '--device-plugin-dir', pluginDir, '--dev-dir', join(dir, 'dev'), '--control', control, '--log-level', 'warn'];

    const first = await startPluginProcess(args);
    children.push(first);
    await untilResources(manager, (r) => r[FPGA]?.capacity === 2 && r[FPGA]?.allocatable === 2);

    assert.equal(await sendControlCommand(control, 'unhealthy fpga1'), 'ok');
    await untilResources(manager, (r) => r[FPGA]?.allocatable === 1);
    assert.match(await sendControlCommand(control, 'unhealthy fpga9'), /^error: no device fpga9/);

    first.kill('SIGKILL');
    await exited(first);
    await untilResources(manager, (r) => r[FPGA]?.capacity === 2 && r[FPGA]?.allocatable === 0);

    children.push(await startPluginProcess(args));
    await untilResources(manager, (r) => r[FPGA]?.allocatable === 2);
  });
});
