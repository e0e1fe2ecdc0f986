// Device plugins end to end: the agent harness (world + dev API server + agent child process)
// plus the sample device plugin as a second child process, registered on the agent's own
// <root-dir>/device-plugins, and a PodResources client on <root-dir>/pod-resources. Helpers
// await what a user would look at: Node capacity, pod logs, PodResources answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { V1Pod } from '@kubernetes/client-node';
import { sendControlCommand } from '../../src/device/control-socket.ts';
import { deviceNamePrefix, resourceEnvName } from '../../src/device/fake-devices.ts';
import { callUnary, podResourcesServices, unixTarget, type PodResources, type PodResourcesContainerDevices } from '../../src/device/protocol.ts';
import { waitFor } from '../../src/world/wait.ts';
import { busyboxPod, startAgentHarness, type AgentHarness, type AgentHarnessOptions, type CleanupScope } from './agent-harness.ts';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const agentBin = join(repoRoot, 'bin', 'mini-kubelet.mjs');

export interface DeviceHarnessOptions extends AgentHarnessOptions {
  /** Extended resource the sample plugin serves (default example.com/fpga). */
  resource?: string;
  /** How many fake devices it serves (default 2). */
  count?: number;
}

export interface DeviceHarness extends AgentHarness {
  resource: string;
  /** The agent's --root-dir (the harness puts it beside its manifest dir). */
  rootDir: string;
  /** <root-dir>/device-plugins: where the agent must serve kubelet.sock without being told. */
  pluginDir: string;
  /** Where the sample plugin creates its device nodes. */
  devDir: string;
  /** The plugin's stdout+stderr, for diagnosis. */
  pluginLogTail(lines?: number): string;
  /** Tells the plugin (through its --control socket) to report a device healthy or not. */
  setDeviceHealth(deviceId: string, healthy: boolean): Promise<void>;
  /** Stops the plugin (SIGTERM) and resolves once it has exited. */
  stopPlugin(): Promise<void>;
  /** SIGKILLs the plugin (no cleanup: its socket file stays) and resolves once it has exited. */
  killPlugin(): Promise<void>;
  /** Starts the plugin (again); resolves once it serves (it registers on its own). */
  startPlugin(): Promise<void>;
  /** Node status capacity and allocatable of the resource, as the API server has them. */
  nodeResource(): Promise<{ capacity?: string; allocatable?: string }>;
  /** PodResources v1 List on <root-dir>/pod-resources/kubelet.sock. */
  listPodResources(): Promise<PodResources[]>;
  /** PodResources v1 GetAllocatableResources: the healthy devices per resource. */
  allocatableDevices(): Promise<PodResourcesContainerDevices[]>;
  /** Resolves once the agent's PodResources server reports `count` healthy devices of the resource. */
  waitForHealthyDevices(count: number): Promise<void>;
  /** A pod whose one container ("app") asks for `count` devices, prints what it sees, then sleeps. */
  devicePod(name: string, count?: number): V1Pod;
  /** What a devicePod reported: the device nodes it found, those it could write, the plugin's env var. */
  seenByPod(name: string): Promise<{ deviceNodes: string[]; writable: string[]; env: string }>;
}

export async function startDeviceHarness(t: CleanupScope, opts: DeviceHarnessOptions = {}): Promise<DeviceHarness> {
  const resource = opts.resource ?? 'example.com/fpga';
  const count = opts.count ?? 2;
  const devDir = mkdtempSync(join(tmpdir(), 'mk-devices-'));
  const pluginLogPath = join(devDir, 'plugin.log');
  let plugin: ChildProcess | undefined;
  const killPluginOnExit = () => plugin?.kill('SIGKILL');
  process.on('exit', killPluginOnExit);
  const grpcClients: grpc.Client[] = [];

  // Registered before anything starts, so a failure half-way still cleans up.
  const stopPlugin = async () => {
    const p = plugin;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = once(p, 'exit');
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  t.after(async () => {
    for (const c of grpcClients) c.close();
    await stopPlugin();
    process.off('exit', killPluginOnExit);
    rmSync(devDir, { recursive: true, force: true });
  });

  const h = await startAgentHarness(t, opts);
  // agent-harness.ts lays out <tmp>/{root,manifests,...}; it does not export the root itself.
  const rootDir = join(dirname(h.manifestDir), 'root');
  const pluginDir = join(rootDir, 'device-plugins');
  const envName = resourceEnvName(resource);

  const pluginLogTail = (lines = 30) => {
    try {
      return readFileSync(pluginLogPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };

  const controlSocket = join(devDir, 'control.sock');
  // The sample plugin, as a user would run it beside the agent.
  const log = createWriteStream(pluginLogPath, { flags: 'a' });
  const startPlugin = async () => {
    const child = spawn(process.execPath, [
      agentBin, 'device-plugin', 'sample',
      '--resource', resource, '--count', String(count),
      '--device-plugin-dir', pluginDir, '--dev-dir', devDir, '--control', controlSocket,
    ], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    plugin = child;
    let out = '';
    let gone: number | string | null | undefined;
    child.once('exit', (code, signal) => (gone = signal ?? code));
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    await waitFor(async () => {
      if (gone !== undefined) throw new Error(`device plugin exited (${gone}):\n${pluginLogTail()}`);
      return out.includes('serving ');
    }, { timeoutMs: 30_000, intervalMs: 100, what: 'the sample device plugin to serve' });
  };
  await startPlugin();
  const killPlugin = async () => {
    const p = plugin;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = once(p, 'exit');
    p.kill('SIGKILL');
    await exited;
  };

  const podResources = () => {
    const { PodResourcesLister } = podResourcesServices();
    const client = new PodResourcesLister(unixTarget(join(rootDir, 'pod-resources', 'kubelet.sock')), grpc.credentials.createInsecure());
    grpcClients.push(client);
    return client;
  };
  // One client per call: the agent restarts between calls, and a fresh channel avoids reconnect backoff.
  const ask = async <T>(method: string): Promise<T> => {
    const client = podResources();
    try {
      return await callUnary<object, T>(client, method, {}, 5000);
    } finally {
      client.close();
    }
  };

  const allocatableDevices = async () => (await ask<{ devices: PodResourcesContainerDevices[] }>('GetAllocatableResources')).devices;

  const seenByPod = async (name: string) => {
    let text = '';
    await waitFor(async () => {
      text = await h.kubectl('logs', name, '-c', 'app').catch(() => '');
      return /^env=/m.test(text);
    }, { timeoutMs: 30_000, intervalMs: 250, what: `pod ${name} to print what it sees` });
    const deviceNodes = [...text.matchAll(/^char-device (\S+)$/gm)].map((m) => m[1]!).sort();
    const writable = [...text.matchAll(/^writable (\S+)$/gm)].map((m) => m[1]!).sort();
    const env = /^env=(.*)$/m.exec(text)![1]!;
    return { deviceNodes, writable, env };
  };

  return Object.assign(h, {
    resource,
    rootDir,
    pluginDir,
    devDir,
    pluginLogTail,
    async setDeviceHealth(deviceId: string, healthy: boolean) {
      const answer = await sendControlCommand(controlSocket, `${healthy ? 'healthy' : 'unhealthy'} ${deviceId}`);
      if (answer !== 'ok') throw new Error(`plugin control answered: ${answer}`);
    },
    stopPlugin,
    killPlugin,
    startPlugin,
    async nodeResource() {
      const node = await h.core.readNode({ name: h.nodeName });
      return {
        capacity: (node.status?.capacity as Record<string, string> | undefined)?.[resource],
        allocatable: (node.status?.allocatable as Record<string, string> | undefined)?.[resource],
      };
    },
    listPodResources: async () => (await ask<{ pod_resources: PodResources[] }>('List')).pod_resources,
    allocatableDevices,
    async waitForHealthyDevices(n: number) {
      await waitFor(async () => {
        const devices = await allocatableDevices().catch(() => []);
        return devices.filter((d) => d.resource_name === resource).flatMap((d) => d.device_ids).length === n;
      }, { timeoutMs: 30_000, intervalMs: 200, what: `${n} healthy ${resource} devices in PodResources\nplugin log:\n${pluginLogTail()}` });
    },
    devicePod(name: string, n = 1) {
      // Which /dev entries of this kind exist in the container, then the plugin's env var.
      // Writing proves the runtime's device cgroup lets the container use it (the node is 1:3, a sink).
      const script = [
        `for f in /dev/${deviceNamePrefix(resource)}*; do`,
        '  test -c "$f" || continue',
        '  echo "char-device ${f#/dev/}"',
        '  echo probe > "$f" && echo "writable ${f#/dev/}"',
        'done',
        `echo "env=$${envName}"`,
        'exec sleep 3600',
      ].join('\n');
      return busyboxPod(name, h.world.images.busybox, {
        containers: [{
          name: 'app',
          image: h.world.images.busybox,
          command: ['sh', '-c', script],
          resources: { limits: { [resource]: String(n) } },
        }],
      });
    },
    seenByPod,
  });
}
