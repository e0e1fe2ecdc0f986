// The fuzzer's definition of "a precise reason" (src/fuzz/verdict.ts), case by case: which pod
// statuses are a verdict, under which outcome class, and which are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { classifyPod, type WarningEvent } from '../../src/fuzz/verdict.ts';

const waiting = (name: string, reason?: string): V1ContainerStatus => ({ name, image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: reason ? { reason } : {} } });
const running = (name: string, ready: boolean): V1ContainerStatus => ({ name, image: 'i', imageID: '', ready, restartCount: 0, state: { running: {} } });
const terminated = (name: string, exitCode: number, reason?: string): V1ContainerStatus => ({ name, image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, ...(reason ? { reason } : {}) } } });
const cond = (type: string, status: string, reason?: string): V1PodCondition => ({ type, status, ...(reason ? { reason } : {}) });

function pod(phase: string | undefined, o: { reason?: string; init?: V1ContainerStatus[]; main?: V1ContainerStatus[]; conditions?: V1PodCondition[]; sidecars?: string[] } = {}): V1Pod {
  return {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'app' }], initContainers: (o.sidecars ?? []).map((name) => ({ name, restartPolicy: 'Always' })) },
    status: { ...(phase ? { phase } : {}), ...(o.reason ? { reason: o.reason } : {}), initContainerStatuses: o.init, containerStatuses: o.main, conditions: o.conditions },
  };
}

const cases: Array<{ name: string; pod: V1Pod; warnings?: WarningEvent[]; outcome: string; precise: boolean; terminal?: boolean }> = [
  { name: 'Succeeded, exit 0', pod: pod('Succeeded', { main: [terminated('app', 0, 'Completed')] }), outcome: 'Succeeded', precise: true, terminal: true },
  { name: 'Succeeded with a non-zero exit is not', pod: pod('Succeeded', { main: [terminated('app', 1, 'Error')] }), outcome: 'Succeeded', precise: false, terminal: true },
  { name: 'Failed with a pod reason', pod: pod('Failed', { reason: 'DeadlineExceeded' }), outcome: 'Failed:DeadlineExceeded', precise: true, terminal: true },
  { name: 'Failed by a container error', pod: pod('Failed', { main: [terminated('app', 1, 'Error')] }), outcome: 'Failed:Error', precise: true, terminal: true },
  { name: 'Failed by an init container error', pod: pod('Failed', { init: [terminated('init', 2, 'Error')], main: [waiting('app', 'PodInitializing')] }), outcome: 'Failed:Error', precise: true, terminal: true },
  { name: 'Failed with no reason anywhere', pod: pod('Failed', { main: [terminated('app', 0, 'Completed')] }), outcome: 'Failed', precise: false, terminal: true },
  { name: 'Failed, a terminated container without reason', pod: pod('Failed', { main: [terminated('app', 1)] }), outcome: 'Failed', precise: false, terminal: true },
  { name: 'Running and Ready', pod: pod('Running', { main: [running('app', true)], conditions: [cond('Ready', 'True')] }), outcome: 'Running:Ready', precise: true },
  { name: 'Running, crash looping', pod: pod('Running', { main: [waiting('app', 'CrashLoopBackOff')], conditions: [cond('Ready', 'False', 'ContainersNotReady')] }), outcome: 'Running:CrashLoopBackOff', precise: true },
  { name: 'Running, unready by probe, with a condition reason', pod: pod('Running', { main: [running('app', false)], conditions: [cond('Ready', 'False', 'ContainersNotReady')] }), outcome: 'Running:NotReady', precise: true },
  { name: 'Running, unready, Ready has no reason', pod: pod('Running', { main: [running('app', false)], conditions: [cond('Ready', 'False')] }), outcome: 'Running:NotReady', precise: false },
  { name: 'Running, one container done', pod: pod('Running', { main: [terminated('app', 0, 'Completed'), running('b', true)], conditions: [cond('Ready', 'False', 'ContainersNotReady')] }), outcome: 'Running:Terminated:Completed', precise: true },
  { name: 'Running, a container still being created', pod: pod('Running', { main: [running('app', true), waiting('b', 'ContainerCreating')], conditions: [cond('Ready', 'False', 'ContainersNotReady')] }), outcome: 'Running:ContainerCreating', precise: false },
  { name: 'Running, every container ready but Ready not True', pod: pod('Running', { main: [running('app', true)], conditions: [cond('Ready', 'False', 'ContainersNotReady')] }), outcome: 'Running:Unready', precise: false },
  { name: 'Running, an unready sidecar says why', pod: pod('Running', { sidecars: ['side'], init: [running('side', false)], main: [running('app', true)], conditions: [cond('Ready', 'False', 'ContainersNotReady')] }), outcome: 'Running:NotReady', precise: true },
  { name: 'Running with no container statuses', pod: pod('Running', { conditions: [cond('Ready', 'False', 'ContainersNotReady')] }), outcome: 'Running:Unready', precise: false },
  { name: 'Running, an unknown waiting reason', pod: pod('Running', { main: [waiting('app', 'SomethingNew')], conditions: [cond('Ready', 'False', 'ContainersNotReady')] }), outcome: 'Running:SomethingNew', precise: false },
  { name: 'Pending, image pull back-off', pod: pod('Pending', { main: [waiting('app', 'ImagePullBackOff')] }), outcome: 'Pending:ImagePullBackOff', precise: true },
  { name: 'Pending, config error', pod: pod('Pending', { main: [waiting('app', 'CreateContainerConfigError')] }), outcome: 'Pending:CreateContainerConfigError', precise: true },
  { name: 'Pending, an init container crash loops', pod: pod('Pending', { init: [waiting('init', 'CrashLoopBackOff')], main: [waiting('app', 'PodInitializing')] }), outcome: 'Pending:CrashLoopBackOff', precise: true },
  { name: 'Pending, an init container runs', pod: pod('Pending', { init: [running('init', false)], main: [waiting('app', 'PodInitializing')], conditions: [cond('Initialized', 'False', 'ContainersNotInitialized')] }), outcome: 'Pending:InitRunning', precise: true },
  { name: 'Pending, only ContainerCreating, a Warning event says why', pod: pod('Pending', { main: [waiting('app', 'ContainerCreating')] }), warnings: [{ reason: 'FailedMount', message: 'secret "x" not found' }], outcome: 'Pending:Event:FailedMount', precise: true },
  { name: 'Pending, only ContainerCreating, no event', pod: pod('Pending', { main: [waiting('app', 'ContainerCreating')] }), outcome: 'Pending:ContainerCreating', precise: false },
  { name: 'Pending, PodInitializing, no event', pod: pod('Pending', { init: [waiting('init', 'PodInitializing')], main: [waiting('app', 'PodInitializing')] }), outcome: 'Pending:PodInitializing', precise: false },
  { name: 'Pending with nothing at all', pod: pod('Pending'), outcome: 'Pending:NoReason', precise: false },
  { name: 'Pending, an event without a reason does not count', pod: pod('Pending'), warnings: [{ message: 'something' }], outcome: 'Pending:NoReason', precise: false },
  { name: 'no phase', pod: pod(undefined), outcome: 'NoPhase', precise: false },
  { name: 'Unknown', pod: pod('Unknown'), outcome: 'Unknown', precise: false },
];

for (const c of cases) {
  test(`verdict: ${c.name} → ${c.outcome} (${c.precise ? 'precise' : 'imprecise'})`, () => {
    const v = classifyPod(c.pod, c.warnings);
    assert.equal(v.outcome, c.outcome);
    assert.equal(v.precise, c.precise, v.why);
    assert.equal(v.terminal, c.terminal ?? false);
    if (!c.precise) assert.ok(v.why, 'an imprecise verdict says what is missing');
  });
}
