import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Lease, V1Node } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { PodRuntime, RuntimeHealth } from '../../src/cri/runtime-manager/pod-runtime.ts';
import type { ContainerDevices } from '../../src/device/container-devices.ts';
import type { KubeApi } from '../../src/agent/api/kube-api.ts';
import { defaultConfig } from '../../src/agent/config/agent-config.ts';
import { startNodeController } from '../../src/agent/node/node-controller.ts';
import { pollFor } from '../../src/world/wait.ts';
import { runtimeHealthChanged, runtimeHealthState, watchRuntimeHealth, type RuntimeHealthState } from '../../src/agent/node/runtime-health-watch.ts';

const up: RuntimeHealth = { runtimeReady: true, networkReady: true, message: '' };
const down: RuntimeHealth = { runtimeReady: false, networkReady: false, message: 'container runtime is down: connect ECONNREFUSED' };
const noNetwork: RuntimeHealth = { runtimeReady: true, networkReady: false, message: 'NetworkReady=false reason:NetworkPluginNotReady' };

test('runtime health state: ready, runtime down (or not asked at all), network not ready', () => {
  assert.equal(runtimeHealthState(up), 'ready');
  assert.equal(runtimeHealthState(down), 'runtime-down');
  assert.equal(runtimeHealthState(undefined), 'runtime-down');
  assert.equal(runtimeHealthState({ runtimeReady: false, networkReady: true, message: '' }), 'runtime-down');
  assert.equal(runtimeHealthState(noNetwork), 'network-not-ready');
});

test('runtime health change: a flip is news, a first look or the same state is not', () => {
  const cases: Array<[RuntimeHealthState | undefined, RuntimeHealthState, boolean]> = [
    [undefined, 'ready', false],
    [undefined, 'runtime-down', false],
    ['ready', 'ready', false],
    ['runtime-down', 'runtime-down', false],
    ['ready', 'runtime-down', true],
    ['runtime-down', 'ready', true],
    ['runtime-down', 'network-not-ready', true],
    ['network-not-ready', 'ready', true],
  ];
  for (const [previous, next, changed] of cases) assert.equal(runtimeHealthChanged(previous, next), changed, `${previous} → ${next}`);
});

test('the watcher calls back once per flip (down, then up), not on every check', async () => {
  const sequence = [up, up, down, down, down, up, up];
  let i = 0;
  const changes: RuntimeHealthState[] = [];
  let sawEnd!: () => void;
  const end = new Promise<void>((resolve) => (sawEnd = resolve));
  const runtime = {
    async health() {
      const h = sequence[Math.min(i, sequence.length - 1)]!;
      i++;
      if (i === sequence.length) sawEnd();
      return h;
    },
  };
  const stop = watchRuntimeHealth(runtime, (s) => changes.push(s), pino({ level: 'silent' }), { periodMs: 1 });
  await end;
  await stop();
  assert.deepEqual(changes, ['runtime-down', 'ready']);
});

test('the watcher treats a failed check as down, and a check that hangs as no news', async () => {
  let i = 0;
  const changes: RuntimeHealthState[] = [];
  let sawEnd!: () => void;
  const end = new Promise<void>((resolve) => (sawEnd = resolve));
  const runtime = {
    health(): Promise<RuntimeHealth> {
      i++;
      if (i === 1) return Promise.resolve(up);
      if (i === 2) return new Promise(() => {}); // never answers
      if (i === 3) return Promise.resolve(up);
      if (i === 4) return Promise.reject(new Error('UNAVAILABLE'));
      sawEnd();
      return Promise.resolve(up);
    },
  };
  const stop = watchRuntimeHealth(runtime, (s) => changes.push(s), pino({ level: 'silent' }), { periodMs: 1, checkTimeoutMs: 20 });
  await end;
  await stop();
  assert.deepEqual(changes, ['runtime-down', 'ready']);
});

test('the node controller posts NotReady and Ready again as soon as the runtime flips, not at its status period', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mk-health-watch-'));
  const posted: Array<string | undefined> = [];
  const api = {
    getNode: async () => undefined,
    createNode: async (node: V1Node) => node,
    patchNodeStatus: async (name: string, status: V1Node['status']) => {
      posted.push(status?.conditions?.find((c) => c.type === 'Ready')?.status);
      return { metadata: { name }, status };
    },
    getLease: async () => undefined,
    createLease: async (lease: V1Lease) => lease,
    replaceLease: async (lease: V1Lease) => lease,
  } as unknown as KubeApi;
  let health = up;
  const runtime = {
    info: async () => ({ runtimeName: 'fake', runtimeVersion: '1', runtimeApiVersion: 'v1' }),
    health: async () => health,
  } as unknown as PodRuntime;
  const config = { ...defaultConfig, nodeName: 'n1', rootDir: dir, intervals: { ...defaultConfig.intervals, nodeStatusUpdateMs: 600_000, leaseRenewMs: 600_000, plegRelistMs: 10 } };
  const controller = await startNodeController({
    api, runtime, config, logger: pino({ level: 'silent' }), kubeletPort: () => 10250,
    devices: { resources: () => ({}) } as unknown as ContainerDevices,
  });
  try {
    assert.deepEqual(posted, ['True']);
    health = down;
    await pollFor(() => posted.at(-1) === 'False', { timeoutMs: 2000, what: 'Ready=False posted' });
    health = up;
    await pollFor(() => posted.at(-1) === 'True', { timeoutMs: 2000, what: 'Ready=True posted' });
    assert.deepEqual(posted, ['True', 'False', 'True']);
  } finally {
    await controller.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
