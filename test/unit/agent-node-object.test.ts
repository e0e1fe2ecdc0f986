import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNodeObject, buildNodeStatus, nodeStatusChanged, type NodeStatusInput } from '../../src/agent/node/node-object.ts';
import type { MachineFacts } from '../../src/agent/node/machine-facts.ts';

const facts: MachineFacts = {
  cpuCount: 2, memoryBytes: 4 * 2 ** 30, rootFsBytes: 10 * 2 ** 30, machineID: 'm1', bootID: 'b1', systemUUID: 's1',
  osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', architecture: 'amd64', operatingSystem: 'linux', firstIPv4: '10.0.0.5',
};
const input = (over: Partial<NodeStatusInput> = {}): NodeStatusInput => ({
  nodeName: 'node-a', facts, maxPods: 110, kubeletPort: 10250,
  runtimeInfo: { runtimeName: 'containerd', runtimeVersion: '1.6.20', runtimeApiVersion: 'v1' },
  runtimeHealth: { runtimeReady: true, networkReady: true, message: '' },
  extendedResources: { 'example.com/gpu': { capacity: 2, allocatable: 1 } },
  now: new Date('2026-01-01T00:00:00Z'),
  ...over,
});

test('the Node carries the well-known labels, user labels and taints', () => {
  const node = buildNodeObject({ nodeName: 'node-a', labels: { zone: 'z1' }, taints: [{ key: 'k', effect: 'NoSchedule' }] }, facts);
  assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], 'node-a');
  assert.equal(node.metadata?.labels?.['kubernetes.io/os'], 'linux');
  assert.equal(node.metadata?.labels?.['kubernetes.io/arch'], 'amd64');
  assert.equal(node.metadata?.labels?.zone, 'z1');
  assert.deepEqual(node.spec?.taints, [{ key: 'k', effect: 'NoSchedule' }]);
});

test('status reports capacity, addresses, node info and Ready', () => {
  const s = buildNodeStatus(input());
  // Canonical quantities, as kube-apiserver and the kubelet write them: 4 GiB is "4Gi", not "4194304Ki".
  assert.deepEqual(s.capacity, { cpu: '2', memory: '4Gi', pods: '110', 'ephemeral-storage': '10Gi', 'example.com/gpu': '2' });
  const odd = buildNodeStatus(input({ facts: { ...facts, cpuCount: 1000, memoryBytes: 16318412 * 1024, rootFsBytes: 1536 * 2 ** 20 } }));
  assert.deepEqual([odd.capacity?.cpu, odd.capacity?.memory, odd.capacity?.['ephemeral-storage']], ['1k', '16318412Ki', '1536Mi']);
  assert.equal(s.allocatable?.['example.com/gpu'], '1');
  assert.deepEqual(s.addresses, [{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'node-a' }]);
  assert.equal(s.nodeInfo?.containerRuntimeVersion, 'containerd://1.6.20');
  assert.equal(s.daemonEndpoints?.kubeletEndpoint?.Port, 10250);
  const ready = s.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'True');
  assert.equal(ready?.reason, 'KubeletReady');
  for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
    assert.equal(s.conditions?.find((c) => c.type === type)?.status, 'False');
  }
});

test('--node-ip wins over the discovered address', () => {
  assert.equal(buildNodeStatus(input({ nodeIP: '192.168.1.9' })).addresses?.[0].address, '192.168.1.9');
});

test('a runtime that is down makes the node NotReady, and the transition time moves only then', () => {
  const up = buildNodeStatus(input());
  const down = buildNodeStatus(input({ runtimeHealth: undefined, previousConditions: up.conditions, now: new Date('2026-01-01T00:01:00Z') }));
  const ready = down.conditions?.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'KubeletNotReady');
  assert.match(ready!.message!, /container runtime is down/);
  assert.deepEqual(ready?.lastTransitionTime, new Date('2026-01-01T00:01:00Z'));
  const memory = down.conditions?.find((c) => c.type === 'MemoryPressure');
  assert.deepEqual(memory?.lastTransitionTime, new Date('2026-01-01T00:00:00Z'));
  assert.ok(nodeStatusChanged(up, down));
});

test('a heartbeat alone is not a change', () => {
  const a = buildNodeStatus(input());
  const b = buildNodeStatus(input({ previousConditions: a.conditions, now: new Date('2026-01-01T00:00:10Z') }));
  assert.equal(nodeStatusChanged(a, b), false);
});
