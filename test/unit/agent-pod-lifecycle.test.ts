// The pod's lifecycle state (what a person follows at --v 4), from the pod and the runtime's view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import type { ObservedContainerState, RuntimePodStatus } from '../../src/cri/runtime-manager/pod-runtime.ts';
import { lifecycleStepsOf, podLifecycleOf, type PodLifecycleState } from '../../src/agent/workers/pod-lifecycle.ts';

const pod = (over: { deleted?: boolean; sidecar?: boolean; init?: boolean } = {}): V1Pod => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'u1', ...(over.deleted ? { deletionTimestamp: new Date() } : {}) },
  spec: {
    containers: [{ name: 'app', image: 'i' }, { name: 'side', image: 'i' }],
    initContainers: [
      ...(over.init ? [{ name: 'setup', image: 'i' }] : []),
      ...(over.sidecar ? [{ name: 'proxy', image: 'i', restartPolicy: 'Always' }] : []),
    ],
  },
});

type Sandbox = 'ready' | 'notready' | 'none';
function observed(sandbox: Sandbox, containers: Array<[string, ObservedContainerState]> = [], olderSandbox?: Array<[string, ObservedContainerState]>): RuntimePodStatus {
  const sandboxes = sandbox === 'none' ? [] : [{ id: 's2', state: sandbox, attempt: 1, createdAtMs: 2, runtimeHandler: '', ips: [] }];
  if (olderSandbox) sandboxes.push({ id: 's1', state: 'notready', attempt: 0, createdAtMs: 1, runtimeHandler: '', ips: [] });
  const ctr = (sandboxId: string) => ([name, state]: [string, ObservedContainerState], i: number) =>
    ({ id: `${sandboxId}-${name}-${i}`, name, sandboxId, attempt: 0, state, createdAtMs: 10 - i, image: 'i', imageRef: 'i', specHash: 'h' });
  return {
    uid: 'u1', name: 'web', namespace: 'ns', sandboxes,
    containers: [...containers.map(ctr('s2')), ...(olderSandbox ?? []).map(ctr('s1'))],
  };
}

const cases: Array<[string, V1Pod, RuntimePodStatus, string | undefined, PodLifecycleState]> = [
  ['admitted, nothing in the runtime yet', pod(), observed('none'), 'Pending', 'Admitted'],
  ['the sandbox exists but is not ready', pod(), observed('notready'), 'Pending', 'Admitted'],
  ['a ready sandbox, no container yet', pod(), observed('ready'), 'Pending', 'SandboxReady'],
  ['an init container runs', pod({ init: true }), observed('ready', [['setup', 'running']]), 'Pending', 'ContainersStarting'],
  ['one of two containers runs', pod(), observed('ready', [['app', 'running'], ['side', 'created']]), 'Pending', 'ContainersStarting'],
  ['both run', pod(), observed('ready', [['app', 'running'], ['side', 'running']]), 'Running', 'Running'],
  ['both run, a finished init container beside them', pod({ init: true }), observed('ready', [['app', 'running'], ['side', 'running'], ['setup', 'exited']]), 'Running', 'Running'],
  ['a sidecar not running yet holds Running back', pod({ sidecar: true }), observed('ready', [['app', 'running'], ['side', 'running'], ['proxy', 'created']]), 'Pending', 'ContainersStarting'],
  ['sidecar and containers run', pod({ sidecar: true }), observed('ready', [['proxy', 'running'], ['app', 'running'], ['side', 'running']]), 'Running', 'Running'],
  ['a container exited and waits to restart', pod(), observed('ready', [['app', 'exited'], ['side', 'running']]), 'Running', 'ContainersFailing'],
  ['its newest instance runs again', pod(), observed('ready', [['app', 'running'], ['app', 'exited'], ['side', 'running']]), 'Running', 'Running'],
  ['containers of an older sandbox do not count', pod(), observed('ready', [], [['app', 'running'], ['side', 'running']]), 'Running', 'SandboxReady'],
  ['all exited in a final phase', pod(), observed('notready', [['app', 'exited'], ['side', 'exited']]), 'Succeeded', 'Terminated'],
  ['a final phase while the sandbox is still up', pod(), observed('ready', [['app', 'exited'], ['side', 'exited']]), 'Failed', 'Terminating'],
  ['deleted, still running', pod({ deleted: true }), observed('ready', [['app', 'running'], ['side', 'running']]), 'Running', 'Terminating'],
  ['deleted, nothing runs', pod({ deleted: true }), observed('notready', [['app', 'exited']]), 'Running', 'Terminated'],
  ['deleted, nothing in the runtime', pod({ deleted: true }), observed('none'), undefined, 'Terminated'],
];

for (const [name, p, obs, phase, want] of cases) {
  test(`pod lifecycle: ${name} → ${want}`, () => {
    assert.equal(podLifecycleOf({ pod: p, observed: obs, phase }), want);
  });
}

test('pod lifecycle: a sync that did several steps names each, in order; no change, no step', () => {
  const all = { sandbox: true, containers: true };
  assert.deepEqual(lifecycleStepsOf('Admitted', 'Running', all), ['SandboxReady', 'ContainersStarting', 'Running']);
  assert.deepEqual(lifecycleStepsOf('Admitted', 'Running', { sandbox: true, containers: false }), ['SandboxReady', 'Running']);
  assert.deepEqual(lifecycleStepsOf('SandboxReady', 'Running', all), ['ContainersStarting', 'Running']);
  assert.deepEqual(lifecycleStepsOf('Admitted', 'ContainersStarting', all), ['SandboxReady', 'ContainersStarting']);
  assert.deepEqual(lifecycleStepsOf('Running', 'Running', all), []);
  assert.deepEqual(lifecycleStepsOf('Running', 'ContainersFailing', all), ['ContainersFailing']);
  assert.deepEqual(lifecycleStepsOf('ContainersFailing', 'Running', all), ['Running']);
  assert.deepEqual(lifecycleStepsOf('Running', 'Terminating', all), ['Terminating']);
});
