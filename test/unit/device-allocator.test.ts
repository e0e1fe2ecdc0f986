// The pure allocation rules: which containers want devices, what fits, preferred picks,
// and how init containers' devices are reused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { containerDemands, devicesToAllocate, pickDevices, sortDeviceIds, updateReusable } from '../../src/device/allocator.ts';

const FPGA = 'example.com/fpga';
const isDevice = (name: string) => name === FPGA || name === 'nvidia.com/gpu';

describe('containerDemands', () => {
  test('reads extended-resource limits in init-then-app order and tells sidecars apart', () => {
    const pod: V1Pod = {
      spec: {
        initContainers: [
          { name: 'setup', resources: { limits: { [FPGA]: '1', cpu: '1' } } },
          { name: 'proxy', restartPolicy: 'Always', resources: { limits: { 'nvidia.com/gpu': '1' } } },
          { name: 'plain' },
        ],
        containers: [
          { name: 'main', resources: { limits: { [FPGA]: '2', memory: '1Gi', 'nvidia.com/gpu': '0' } } },
          { name: 'helper', resources: { limits: { 'other.io/thing': '3' } } },
        ],
      },
    };
    assert.deepEqual(containerDemands(pod, isDevice), [
      { name: 'setup', kind: 'init', devices: { [FPGA]: 1 } },
      { name: 'proxy', kind: 'sidecar', devices: { 'nvidia.com/gpu': 1 } },
      { name: 'main', kind: 'app', devices: { [FPGA]: 2 } },
    ]);
  });
});

describe('devicesToAllocate', () => {
  const healthy = new Set(['fpga0', 'fpga1', 'fpga2', 'fpga10']);
  const cases: Array<{ name: string; requested: number; inUse: string[]; reusable: string[]; healthy?: Set<string>; want: unknown }> = [
    { name: 'fits in free devices, lowest first in natural order', requested: 2, inUse: ['fpga0'], reusable: [],
      want: { ok: true, mustInclude: [], candidates: ['fpga1', 'fpga2', 'fpga10'], needed: 2 } },
    { name: 'too few free devices gives the kubelet error', requested: 2, inUse: ['fpga0', 'fpga1', 'fpga2'], reusable: [],
      want: { ok: false, error: 'requested number of devices unavailable for example.com/fpga. Requested: 2, Available: 1' } },
    { name: 'reusable devices cover the request entirely', requested: 1, inUse: ['fpga0', 'fpga1'], reusable: ['fpga1'],
      want: { ok: true, mustInclude: ['fpga1'], candidates: [], needed: 0 } },
    { name: 'reusable devices count first; only the rest must be free', requested: 3, inUse: ['fpga1', 'fpga2'], reusable: ['fpga1'],
      want: { ok: true, mustInclude: ['fpga1'], candidates: ['fpga0', 'fpga10'], needed: 2 } },
    { name: 'a reusable device that turned unhealthy is not reused', requested: 1, inUse: ['fpga9'], reusable: ['fpga9'],
      want: { ok: true, mustInclude: [], candidates: ['fpga0', 'fpga1', 'fpga2', 'fpga10'], needed: 1 } },
    { name: 'no healthy devices at all', requested: 1, inUse: [], reusable: [], healthy: new Set(),
      want: { ok: false, error: 'no healthy devices present; cannot allocate unhealthy devices example.com/fpga' } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(devicesToAllocate({ resource: FPGA, requested: c.requested, healthy: c.healthy ?? healthy, inUse: new Set(c.inUse), reusable: c.reusable }), c.want);
    });
  }
  test('a resource no plugin registered cannot be allocated', () => {
    assert.deepEqual(devicesToAllocate({ resource: FPGA, requested: 1, healthy: undefined, inUse: new Set(), reusable: [] }),
      { ok: false, error: 'cannot allocate unregistered device example.com/fpga' });
  });
});

describe('pickDevices', () => {
  const choice = { mustInclude: ['fpga3'], candidates: ['fpga0', 'fpga1', 'fpga2'], needed: 2 };
  test('without advice: must-include devices, then the lowest free IDs', () => {
    assert.deepEqual(pickDevices(choice), ['fpga3', 'fpga0', 'fpga1']);
  });
  test('the plugin\'s preferred allocation is honoured', () => {
    assert.deepEqual(pickDevices(choice, ['fpga3', 'fpga2', 'fpga1']), ['fpga3', 'fpga2', 'fpga1']);
  });
  test('advice naming busy or unknown devices is ignored for those, and the rest is filled', () => {
    assert.deepEqual(pickDevices(choice, ['fpga9', 'fpga2']), ['fpga3', 'fpga2', 'fpga0']);
  });
  test('too much advice is cut to the requested size', () => {
    assert.deepEqual(pickDevices({ mustInclude: [], candidates: ['a', 'b', 'c'], needed: 1 }, ['c', 'b']), ['c']);
  });
});

describe('updateReusable', () => {
  test('init containers pass devices on; app containers and sidecars take them out of the pool', () => {
    const pool = new Map<string, string[]>();
    updateReusable(pool, 'init', FPGA, ['fpga0']);
    updateReusable(pool, 'init', FPGA, ['fpga0', 'fpga1']);
    assert.deepEqual(pool.get(FPGA), ['fpga0', 'fpga1']);
    updateReusable(pool, 'app', FPGA, ['fpga1', 'fpga2']);
    assert.deepEqual(pool.get(FPGA), ['fpga0']);
    updateReusable(pool, 'sidecar', FPGA, ['fpga0']);
    assert.deepEqual(pool.get(FPGA), []);
  });
  test('sortDeviceIds orders numbers naturally', () => {
    assert.deepEqual(sortDeviceIds(['gpu10', 'gpu2', 'gpu1']), ['gpu1', 'gpu2', 'gpu10']);
  });
});
