import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObservedContainerState, RuntimePodStatus } from '../../src/cri/runtime-manager/pod-runtime.ts';
import { changedPods, snapshotOf } from '../../src/agent/pleg/pleg-diff.ts';

function pod(uid: string, sandbox: 'ready' | 'notready' | undefined, containers: Array<[string, ObservedContainerState]> = []): RuntimePodStatus {
  return {
    uid, name: uid, namespace: 'default',
    sandboxes: sandbox ? [{ id: `sb-${uid}`, state: sandbox, attempt: 0, createdAtMs: 1, runtimeHandler: '', ips: [] }] : [],
    containers: containers.map(([id, state]) => ({ id, name: id, sandboxId: `sb-${uid}`, attempt: 0, state, createdAtMs: 1, image: 'i', imageRef: 'i', specHash: 'h' })),
  };
}

const cases: Array<{ name: string; before: RuntimePodStatus[]; after: RuntimePodStatus[]; changed: string[] }> = [
  { name: 'nothing changed', before: [pod('a', 'ready', [['c1', 'running']])], after: [pod('a', 'ready', [['c1', 'running']])], changed: [] },
  { name: 'a new pod', before: [], after: [pod('a', 'ready')], changed: ['a'] },
  { name: 'a pod gone', before: [pod('a', 'ready'), pod('b', 'ready')], after: [pod('b', 'ready')], changed: ['a'] },
  { name: 'a container exited', before: [pod('a', 'ready', [['c1', 'running']]), pod('b', 'ready', [['c2', 'running']])], after: [pod('a', 'ready', [['c1', 'exited']]), pod('b', 'ready', [['c2', 'running']])], changed: ['a'] },
  { name: 'a container added', before: [pod('a', 'ready', [['c1', 'running']])], after: [pod('a', 'ready', [['c1', 'running'], ['c2', 'created']])], changed: ['a'] },
  { name: 'the sandbox stopped', before: [pod('a', 'ready')], after: [pod('a', 'notready')], changed: ['a'] },
  { name: 'order of containers does not matter', before: [pod('a', 'ready', [['c1', 'running'], ['c2', 'running']])], after: [pod('a', 'ready', [['c2', 'running'], ['c1', 'running']])], changed: [] },
];

for (const c of cases) {
  test(`PLEG diff: ${c.name}`, () => {
    assert.deepEqual(changedPods(snapshotOf(c.before), snapshotOf(c.after)).sort(), c.changed);
  });
}
