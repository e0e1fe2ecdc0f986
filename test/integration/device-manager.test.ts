// The device manager and the sample plugin over real gRPC unix sockets in a temp dir:
// registration, health, admission, injection, release, checkpoint and PodResources.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { requireE2e } from '../helpers/e2e.ts';
import { createDeviceManager, type ActivePod, type DeviceManager } from '../../src/device/device-manager.ts';
import { fakeDeviceBackend } from '../../src/device/fake-devices.ts';
import { callUnary, devicePluginServices, podResourcesServices, unixTarget } from '../../src/device/protocol.ts';
import { startDevicePluginServer, type RunningDevicePlugin } from '../../src/device/sample-plugin.ts';

const logger = pino({ level: 'silent' });
const FPGA = 'example.com/fpga';

/** Resolves when `check` holds, re-checking on every onChange; rejects after `timeoutMs`. */
function untilResources(manager: DeviceManager, check: (r: ReturnType<DeviceManager['resources']>) => boolean, timeoutMs = 3000): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`resources never matched: ${JSON.stringify(manager.resources())}`));
    }, timeoutMs);
    const probe = () => {
      if (done || !check(manager.resources())) return;
      done = true;
      clearTimeout(timer);
      resolve(performance.now() - started);
    };
    manager.onChange(probe);
    probe();
  });
}

function fpgaPod(uid: string, containers: Array<{ name: string; fpgas: number; init?: boolean }>): V1Pod {
  const spec = (c: { name: string; fpgas: number }) => ({
    name: c.name, image: 'busybox', resources: c.fpgas ? { limits: { [FPGA]: String(c.fpgas) } } : undefined,
  });
  return {
    metadata: { uid, name: `pod-${uid}`, namespace: 'default' },
    spec: { initContainers: containers.filter((c) => c.init).map(spec), containers: containers.filter((c) => !c.init).map(spec) },
  };
}

describe('device manager with the sample plugin', { timeout: 30_000 }, () => {
  let dir: string;
  let manager: DeviceManager | undefined;
  let plugin: RunningDevicePlugin | undefined;
  let activePods: ActivePod[] = [];

  const startManager = async (endpointStopGraceMs?: number) => {
    manager = await createDeviceManager({
      pluginDir: join(dir, 'device-plugins'), podResourcesSocket: join(dir, 'pod-resources', 'kubelet.sock'), logger, activePods: () => activePods, endpointStopGraceMs,
    });
    return manager;
  };
  const startPlugin = async (count: number, preStartRequired = false, endpointName?: string) => {
    const backend = await fakeDeviceBackend(FPGA, count, join(dir, 'dev'));
    plugin = await startDevicePluginServer({ backend, pluginDir: join(dir, 'device-plugins'), logger, preStartRequired, endpointName });
    return plugin;
  };

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'mk-device-')); });
  afterEach(async () => {
    await plugin?.stop();
    await manager?.stop();
    plugin = undefined;
    manager = undefined;
    activePods = [];
    await rm(join(dir, 'device-plugins'), { recursive: true, force: true });
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('a registered plugin shows up as capacity within a second', async (t) => {
    if (!requireE2e(t)) return; // mknod needs root
    const m = await startManager();
    const backend = await fakeDeviceBackend(FPGA, 3, join(dir, 'dev'));
    // Measured from the plugin's start (serve, Register, ListAndWatch) to the onChange that shows it.
    const registering = untilResources(m, (r) => r[FPGA]?.capacity === 3 && r[FPGA]?.allocatable === 3);
    plugin = await startDevicePluginServer({ backend, pluginDir: join(dir, 'device-plugins'), logger });
    const ms = await registering;
    assert.ok(ms < 1000, `capacity appeared after ${ms.toFixed(0)} ms`);
    const node = await stat(join(dir, 'dev', 'fpga0'));
    assert.ok(node.isCharacterDevice(), 'the fake device is a real character device');
  });

  test('a plugin started before the agent registers once kubelet.sock appears', async (t) => {
    if (!requireE2e(t)) return;
    const p = await startPlugin(2);
    const since = Date.now();
    const m = await startManager();
    await p.registered(since);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);
  });

  test('an unhealthy device leaves allocatable but stays in capacity, and comes back', async (t) => {
    if (!requireE2e(t)) return;
    const m = await startManager();
    const p = await startPlugin(3);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 3);
    p.setHealth('fpga1', false);
    await untilResources(m, (r) => r[FPGA]?.capacity === 3 && r[FPGA]?.allocatable === 2);
    p.setHealth('fpga1', true);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 3);
  });

  test('a plugin that goes away has its devices marked unhealthy; registering again restores them', async (t) => {
    if (!requireE2e(t)) return;
    const m = await startManager();
    await startPlugin(2);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);
    await plugin!.stop();
    plugin = undefined;
    await untilResources(m, (r) => r[FPGA]?.capacity === 2 && r[FPGA]?.allocatable === 0);
    await startPlugin(2);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);
  });

  test('a plugin that stays away leaves capacity after the grace period', async (t) => {
    if (!requireE2e(t)) return;
    const m = await startManager(300);
    await startPlugin(2);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);
    await plugin!.stop();
    plugin = undefined;
    await untilResources(m, (r) => r[FPGA]?.allocatable === 0);
    await untilResources(m, (r) => !(FPGA in r));
  });

  test('a second registration of a resource replaces the first endpoint', async (t) => {
    if (!requireE2e(t)) return;
    const m = await startManager();
    const first = await startPlugin(2, false, 'fpga-a.sock');
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);
    const second = await startPlugin(3, false, 'fpga-b.sock');
    t.after(() => first.stop());
    await untilResources(m, (r) => r[FPGA]?.capacity === 3 && r[FPGA]?.allocatable === 3);
    first.setHealth('fpga0', false); // the replaced endpoint no longer speaks for the resource
    second.setHealth('fpga2', false);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);
    assert.deepEqual(m.resources(), { [FPGA]: { capacity: 3, allocatable: 2 } });
  });

  test('a registration with an unknown API version or a reserved name is refused', async () => {
    const m = await startManager();
    const { Registration } = devicePluginServices();
    const client = new Registration(unixTarget(join(dir, 'device-plugins', 'kubelet.sock')), grpc.credentials.createInsecure());
    try {
      const register = (version: string, resource_name: string) => callUnary(client, 'Register', { version, endpoint: 'x.sock', resource_name });
      await assert.rejects(register('v1alpha', FPGA), (err: grpc.ServiceError) =>
        err.code === grpc.status.INVALID_ARGUMENT && /"v1alpha" is not supported/.test(err.details));
      await assert.rejects(register('v1beta1', 'kubernetes.io/fpga'), (err: grpc.ServiceError) =>
        err.code === grpc.status.INVALID_ARGUMENT && /reserved for native resources/.test(err.details));
      await assert.rejects(register('v1beta1', FPGA), (err: grpc.ServiceError) =>
        err.code === grpc.status.UNAVAILABLE && /cannot connect to device plugin/.test(err.details), 'no plugin listens on x.sock');
    } finally {
      client.close();
    }
    assert.deepEqual(m.resources(), {});
  });

  test('admission allocates, injects the device node and env, rejects when full, and release frees', async (t) => {
    if (!requireE2e(t)) return;
    const m = await startManager();
    await startPlugin(2);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);

    assert.deepEqual(await m.admit(fpgaPod('a', [{ name: 'main', fpgas: 2 }])), { admitted: true });
    const options = await m.optionsFor('a', 'main');
    assert.deepEqual(options?.devices, [
      { hostPath: join(dir, 'dev', 'fpga0'), containerPath: '/dev/fpga0', permissions: 'rw' },
      { hostPath: join(dir, 'dev', 'fpga1'), containerPath: '/dev/fpga1', permissions: 'rw' },
    ]);
    assert.equal(options?.envs.EXAMPLE_COM_FPGA, 'fpga0,fpga1');
    assert.equal(await m.optionsFor('a', 'other'), undefined);
    assert.deepEqual(await m.admit(fpgaPod('a', [{ name: 'main', fpgas: 2 }])), { admitted: true }, 'admit is idempotent per pod');

    assert.deepEqual(await m.admit(fpgaPod('b', [{ name: 'main', fpgas: 1 }])), {
      admitted: false,
      reason: 'UnexpectedAdmissionError',
      message: 'Allocate failed due to requested number of devices unavailable for example.com/fpga. Requested: 1, Available: 0, which is unexpected',
    });
    await m.release('a');
    assert.deepEqual(await m.admit(fpgaPod('b', [{ name: 'main', fpgas: 1 }])), { admitted: true });
    assert.equal((await m.optionsFor('b', 'main'))?.envs.EXAMPLE_COM_FPGA, 'fpga0');
  });

  test('two pods admitted at once for the last device: exactly one gets it', async (t) => {
    if (!requireE2e(t)) return;
    const m = await startManager();
    await startPlugin(1);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 1);
    const results = await Promise.all([m.admit(fpgaPod('x', [{ name: 'main', fpgas: 1 }])), m.admit(fpgaPod('y', [{ name: 'main', fpgas: 1 }]))]);
    assert.deepEqual(results.map((r) => r.admitted).sort(), [false, true]);
  });

  test('a corrupt checkpoint is reported and the agent starts with no allocations', async () => {
    await mkdir(join(dir, 'device-plugins'), { recursive: true });
    await writeFile(join(dir, 'device-plugins', 'kubelet_internal_checkpoint'), '{"version":1,"data":{"allocations":[],"registeredDevices":{}},"checksum":"sha256:00"}');
    const lines: string[] = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => { lines.push(line); } });
    manager = await createDeviceManager({ pluginDir: join(dir, 'device-plugins'), logger: capture });
    assert.deepEqual(manager.resources(), {});
    const reported = lines.map((l) => JSON.parse(l)).find((l) => l.level === 50);
    assert.equal(reported?.err, 'checkpoint checksum mismatch: the file is corrupt');
    assert.match(reported?.msg, /device checkpoint unusable/);
  });

  test('app containers reuse the devices of init containers; unhealthy devices are not given', async (t) => {
    if (!requireE2e(t)) return;
    const m = await startManager();
    const p = await startPlugin(3);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 3);
    p.setHealth('fpga0', false);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);
    const pod = fpgaPod('c', [{ name: 'setup', fpgas: 1, init: true }, { name: 'main', fpgas: 2 }]);
    assert.deepEqual(await m.admit(pod), { admitted: true });
    const setup = (await m.optionsFor('c', 'setup'))!.envs.EXAMPLE_COM_FPGA;
    const main = (await m.optionsFor('c', 'main'))!.envs.EXAMPLE_COM_FPGA.split(',');
    assert.equal(setup, 'fpga1');
    assert.deepEqual(main.sort(), ['fpga1', 'fpga2']);
  });

  test('the plugin\'s GetPreferredAllocation answer decides which devices a container gets', async (t) => {
    if (!requireE2e(t)) return;
    const m = await startManager();
    const backend = await fakeDeviceBackend(FPGA, 4, join(dir, 'dev'));
    const asked: unknown[] = [];
    plugin = await startDevicePluginServer({
      backend, pluginDir: join(dir, 'device-plugins'), logger,
      preferredAllocation: (req) => { asked.push(req); return ['fpga3', 'fpga1'].slice(0, req.allocation_size); },
    });
    await untilResources(m, (r) => r[FPGA]?.allocatable === 4);
    assert.deepEqual(await m.admit(fpgaPod('p', [{ name: 'main', fpgas: 2 }])), { admitted: true });
    assert.equal((await m.optionsFor('p', 'main'))?.envs.EXAMPLE_COM_FPGA, 'fpga3,fpga1');
    assert.deepEqual(asked, [{ available_deviceIDs: ['fpga0', 'fpga1', 'fpga2', 'fpga3'], must_include_deviceIDs: [], allocation_size: 2 }]);
  });

  test('PreStartContainer is called before the container starts when the plugin asks for it', async (t) => {
    if (!requireE2e(t)) return;
    const m = await startManager();
    const p = await startPlugin(2, true);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);
    assert.deepEqual(await m.admit(fpgaPod('d', [{ name: 'main', fpgas: 1 }])), { admitted: true });
    assert.deepEqual(p.preStartCalls, []);
    await m.optionsFor('d', 'main');
    assert.deepEqual(p.preStartCalls, [['fpga0']]);
  });

  test('allocations survive an agent restart; reconcile frees pods deleted meanwhile', async (t) => {
    if (!requireE2e(t)) return;
    let m = await startManager();
    const p = await startPlugin(2);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);
    assert.deepEqual(await m.admit(fpgaPod('e', [{ name: 'main', fpgas: 1 }])), { admitted: true });
    assert.deepEqual(await m.admit(fpgaPod('f', [{ name: 'main', fpgas: 1 }])), { admitted: true });
    await m.stop();

    const since = Date.now();
    m = await startManager();
    await p.registered(since); // the plugin saw kubelet.sock come back and registered again
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);
    assert.equal((await m.optionsFor('e', 'main'))?.envs.EXAMPLE_COM_FPGA, 'fpga0', 'options come from the checkpoint');
    const full = await m.admit(fpgaPod('g', [{ name: 'main', fpgas: 1 }]));
    assert.equal(full.admitted, false, 'no device is given twice after a restart');

    await m.reconcile(new Set(['e']));
    assert.equal(await m.optionsFor('f', 'main'), undefined);
    assert.deepEqual(await m.admit(fpgaPod('g', [{ name: 'main', fpgas: 1 }])), { admitted: true });
    assert.equal((await m.optionsFor('g', 'main'))?.envs.EXAMPLE_COM_FPGA, 'fpga1');
  });

  test('PodResources answers List, GetAllocatableResources and Get over its socket', async (t) => {
    if (!requireE2e(t)) return;
    const m = await startManager();
    const p = await startPlugin(3);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 3);
    assert.deepEqual(await m.admit(fpgaPod('h', [{ name: 'main', fpgas: 2 }])), { admitted: true });
    activePods = [{ uid: 'h', name: 'pod-h', namespace: 'default', containers: ['main', 'sidecar'] }];
    p.setHealth('fpga2', false);
    await untilResources(m, (r) => r[FPGA]?.allocatable === 2);

    const { PodResourcesLister } = podResourcesServices();
    const client = new PodResourcesLister(unixTarget(join(dir, 'pod-resources', 'kubelet.sock')), grpc.credentials.createInsecure());
    t.after(() => client.close());
    const list = await callUnary<object, { pod_resources: unknown[] }>(client, 'List', {});
    const expectedPod = {
      name: 'pod-h', namespace: 'default',
      containers: [
        { name: 'main', devices: [{ resource_name: FPGA, device_ids: ['fpga0', 'fpga1'], topology: null }], cpu_ids: [], memory: [], dynamic_resources: [] },
        { name: 'sidecar', devices: [], cpu_ids: [], memory: [], dynamic_resources: [] },
      ],
    };
    assert.deepEqual(list.pod_resources, [expectedPod]);
    const allocatable = await callUnary<object, { devices: unknown[] }>(client, 'GetAllocatableResources', {});
    assert.deepEqual(allocatable.devices, [{ resource_name: FPGA, device_ids: ['fpga0', 'fpga1'], topology: null }]);
    const got = await callUnary<object, { pod_resources: unknown }>(client, 'Get', { pod_name: 'pod-h', pod_namespace: 'default' });
    assert.deepEqual(got.pod_resources, expectedPod);
    await assert.rejects(callUnary(client, 'Get', { pod_name: 'nope', pod_namespace: 'default' }), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
  });
});
