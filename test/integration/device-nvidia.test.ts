// NVIDIA mode proven without a GPU: a device tree built with mknod under a temp root stands
// in for /dev, and the agent hands out nvidia.com/gpu from it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { requireE2e } from '../helpers/e2e.ts';
import { createDeviceManager } from '../../src/device/device-manager.ts';
import { discoverNvidiaGpus, nvidiaBackend, parseNvidiaSmi } from '../../src/device/nvidia-discovery.ts';
import { startDevicePluginServer } from '../../src/device/sample-plugin.ts';

const run = promisify(execFile);
const logger = pino({ level: 'silent' });

test('nvidia-smi CSV gives index → UUID and model', () => {
  const out = parseNvidiaSmi('0, GPU-aaaa-1111, NVIDIA H100 80GB HBM3\n1, GPU-bbbb-2222, NVIDIA H100 80GB HBM3\n\n');
  assert.deepEqual([...out], [
    [0, { uuid: 'GPU-aaaa-1111', model: 'NVIDIA H100 80GB HBM3' }],
    [1, { uuid: 'GPU-bbbb-2222', model: 'NVIDIA H100 80GB HBM3' }],
  ]);
});

describe('NVIDIA discovery on a fake device tree', { timeout: 30_000 }, () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'mk-nvidia-'));
    await mkdir(join(root, 'dev', 'nvidia-caps'), { recursive: true });
    await writeFile(join(root, 'dev', 'nvidia7'), 'not a device');
  });
  after(async () => { await rm(root, { recursive: true, force: true }); });

  const mknod = (name: string, minor: number) => run('mknod', [join(root, 'dev', name), 'c', '195', String(minor)]);
  // Built once, by whichever test runs first (each can run alone).
  let tree: Promise<unknown> | undefined;
  const buildTree = () => (tree ??= Promise.all([mknod('nvidia1', 1), mknod('nvidia0', 0), mknod('nvidiactl', 255)]));

  test('finds character devices nvidiaN and the control nodes, ignoring look-alikes', async (t) => {
    if (!requireE2e(t)) return; // mknod needs root
    await buildTree();
    const found = await discoverNvidiaGpus(root);
    assert.deepEqual(found, {
      gpus: [{ index: 0, id: 'nvidia0', node: 'nvidia0', model: undefined }, { index: 1, id: 'nvidia1', node: 'nvidia1', model: undefined }],
      controlNodes: ['nvidiactl'],
    });
  });

  test('the agent allocates nvidia.com/gpu with the device node, nvidiactl and NVIDIA_VISIBLE_DEVICES', async (t) => {
    if (!requireE2e(t)) return;
    await buildTree();
    const pluginDir = join(root, 'device-plugins');
    const manager = await createDeviceManager({ pluginDir, logger });
    t.after(() => manager.stop());
    const ready = new Promise<void>((resolve) => manager.onChange(() => { if (manager.resources()['nvidia.com/gpu']?.allocatable === 2) resolve(); }));
    const plugin = await startDevicePluginServer({ backend: nvidiaBackend(await discoverNvidiaGpus(root), root), pluginDir, logger });
    t.after(() => plugin.stop());
    await ready;
    const pod = { metadata: { uid: 'gpu-pod', name: 'cuda', namespace: 'default' }, spec: { containers: [{ name: 'cuda', resources: { limits: { 'nvidia.com/gpu': '1' } } }] } };
    assert.deepEqual(await manager.admit(pod), { admitted: true });
    const options = await manager.optionsFor('gpu-pod', 'cuda');
    assert.deepEqual(options?.devices, [
      { hostPath: join(root, 'dev', 'nvidia0'), containerPath: '/dev/nvidia0', permissions: 'rw' },
      { hostPath: join(root, 'dev', 'nvidiactl'), containerPath: '/dev/nvidiactl', permissions: 'rw' },
    ]);
    assert.deepEqual(options?.envs, { NVIDIA_VISIBLE_DEVICES: 'nvidia0' });
  });
});
