// Table tests for computePodActions: each row is one situation a pod can be in, and the
// actions the manager must take next (in order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { computePodActions, type PodAction } from '../../src/cri/runtime-manager/compute-pod-actions.ts';
import { Backoff, containerBackoffKey } from '../../src/cri/runtime-manager/backoff.ts';
import { containerSpecHash } from '../../src/cri/runtime-manager/labels.ts';
import type { ObservedContainer, ObservedSandbox, RuntimePodStatus } from '../../src/cri/runtime-manager/pod-runtime.ts';

const UID = 'uid-1';
const NOW = 1_000_000;
const app = (name: string, image = 'busybox'): V1Container => ({ name, image });

function pod(opts: { containers?: V1Container[]; init?: V1Container[]; restartPolicy?: string; hostNetwork?: boolean } = {}): V1Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: UID },
    spec: { containers: opts.containers ?? [app('a')], initContainers: opts.init, restartPolicy: opts.restartPolicy, hostNetwork: opts.hostNetwork },
  };
}

function sandbox(opts: Partial<ObservedSandbox> = {}): ObservedSandbox {
  return { id: 'sb1', state: 'ready', attempt: 0, createdAtMs: 0, runtimeHandler: '', ips: ['10.0.0.2'], ...opts };
}

function ctr(name: string, state: ObservedContainer['state'], opts: Partial<ObservedContainer> & { spec?: V1Container } = {}): ObservedContainer {
  const { spec, ...rest } = opts;
  return {
    id: `${name}-${opts.attempt ?? 0}`, name, sandboxId: 'sb1', attempt: 0, state, createdAtMs: 0,
    image: 'busybox', imageRef: 'sha256:1', specHash: containerSpecHash(spec ?? app(name)),
    ...(state === 'exited' ? { finishedAtMs: NOW - 60_000, exitCode: 0 } : {}),
    ...rest,
  };
}

function observed(sandboxes: ObservedSandbox[], containers: ObservedContainer[] = []): RuntimePodStatus {
  return { uid: UID, name: 'web', namespace: 'default', sandboxes, containers };
}

/** A compact, readable form of an action list. */
function describe(actions: PodAction[]): string[] {
  return actions.map(a => {
    switch (a.type) {
      case 'killPod': return 'killPod';
      case 'createSandbox': return `createSandbox#${a.attempt}`;
      case 'killContainer': return `kill ${a.name}`;
      case 'startContainer': return `${a.init ? 'startInit' : 'start'} ${a.name}#${a.attempt}`;
      case 'wait': return `wait ${a.name} ${a.reason}`;
    }
  });
}

const noBackoff = new Backoff({ clock: () => NOW });

/** A backoff whose container `name` failed `failures` times, the last one `agoMs` before NOW. */
function backoffAfter(name: string, failures: number, agoMs: number, spec = app(name)): Backoff {
  let t = NOW - agoMs;
  const b = new Backoff({ clock: () => t });
  for (let i = 0; i < failures; i++) b.next(containerBackoffKey(UID, name, containerSpecHash(spec)));
  t = NOW;
  return b;
}

const rows: Array<{ name: string; pod: V1Pod; observed: RuntimePodStatus; backoff?: Backoff; want: string[] }> = [
  { name: 'fresh pod: create a sandbox, then start every container', pod: pod({ containers: [app('a'), app('b')] }), observed: observed([]), want: ['createSandbox#0', 'start a#0', 'start b#0'] },
  { name: 'fresh pod with init containers: sandbox, then only the first init container', pod: pod({ init: [app('i1'), app('i2')] }), observed: observed([]), want: ['createSandbox#0', 'startInit i1#0'] },
  { name: 'all running and unchanged: nothing to do', pod: pod({ containers: [app('a'), app('b')] }), observed: observed([sandbox()], [ctr('a', 'running'), ctr('b', 'running')]), want: [] },
  { name: 'one container missing: start only it', pod: pod({ containers: [app('a'), app('b')] }), observed: observed([sandbox()], [ctr('a', 'running')]), want: ['start b#0'] },
  { name: 'sandbox died: kill what is left, new sandbox with attempt + 1, start all again', pod: pod(), observed: observed([sandbox({ state: 'notready' })], [ctr('a', 'running')]), want: ['killPod', 'createSandbox#1', 'start a#1'] },
  { name: 'sandbox has no IP (not hostNetwork): replace it', pod: pod(), observed: observed([sandbox({ ips: [] })], [ctr('a', 'running')]), want: ['killPod', 'createSandbox#1', 'start a#1'] },
  { name: 'hostNetwork sandbox without IP is fine', pod: pod({ hostNetwork: true }), observed: observed([sandbox({ ips: [], hostNetwork: true })], [ctr('a', 'running')]), want: [] },
  { name: 'hostNetwork changed: replace the sandbox', pod: pod({ hostNetwork: true }), observed: observed([sandbox({ hostNetwork: false })], [ctr('a', 'running')]), want: ['killPod', 'createSandbox#1', 'start a#1'] },
  { name: 'two ready sandboxes: reconcile by starting over', pod: pod(), observed: observed([sandbox({ id: 'sb2', attempt: 1 }), sandbox()], [ctr('a', 'running')]), want: ['killPod', 'createSandbox#2', 'start a#1'] },
  { name: 'init order: first init done, start the second', pod: pod({ init: [app('i1'), app('i2')] }), observed: observed([sandbox()], [ctr('i1', 'exited')]), want: ['startInit i2#0'] },
  { name: 'init order: init running, app containers wait', pod: pod({ init: [app('i1'), app('i2')] }), observed: observed([sandbox()], [ctr('i1', 'running')]), want: [] },
  { name: 'init done: start the app containers', pod: pod({ init: [app('i1')], containers: [app('a'), app('b')] }), observed: observed([sandbox()], [ctr('i1', 'exited')]), want: ['start a#0', 'start b#0'] },
  { name: 'init failed under Never: the pod fails (sandbox stopped, nothing restarts)', pod: pod({ init: [app('i1')], restartPolicy: 'Never' }), observed: observed([sandbox()], [ctr('i1', 'exited', { exitCode: 1 })]), want: ['killPod'] },
  { name: 'init failed under OnFailure: restart it', pod: pod({ init: [app('i1')], restartPolicy: 'OnFailure' }), observed: observed([sandbox()], [ctr('i1', 'exited', { exitCode: 1 })]), want: ['startInit i1#1'] },
  { name: 'init failed under Always: restart it', pod: pod({ init: [app('i1')] }), observed: observed([sandbox()], [ctr('i1', 'exited', { exitCode: 1 })]), want: ['startInit i1#1'] },
  { name: 'init failed and in backoff: wait with CrashLoopBackOff', pod: pod({ init: [app('i1')] }), observed: observed([sandbox()], [ctr('i1', 'exited', { exitCode: 1, finishedAtMs: NOW - 2000 })]), backoff: backoffAfter('i1', 1, 2000), want: ['wait i1 CrashLoopBackOff'] },
  { name: 'new sandbox runs init containers again', pod: pod({ init: [app('i1')] }), observed: observed([sandbox({ state: 'notready' })], [ctr('a', 'exited', { exitCode: 1 }), ctr('i1', 'exited')]), want: ['killPod', 'createSandbox#1', 'startInit i1#1'] },
  { name: 'crash under Always, backoff expired: restart with attempt + 1', pod: pod(), observed: observed([sandbox()], [ctr('a', 'exited', { exitCode: 1, finishedAtMs: NOW - 20_000 })]), backoff: backoffAfter('a', 1, 20_000), want: ['start a#1'] },
  { name: 'crash under Always, still in backoff: CrashLoopBackOff', pod: pod(), observed: observed([sandbox()], [ctr('a', 'exited', { exitCode: 1, finishedAtMs: NOW - 3000 })]), backoff: backoffAfter('a', 1, 3000), want: ['wait a CrashLoopBackOff'] },
  { name: 'exit 0 under Always restarts too', pod: pod(), observed: observed([sandbox()], [ctr('a', 'exited', { exitCode: 0 })]), want: ['start a#1'] },
  { name: 'OnFailure, exit 0: not restarted, pod done, sandbox stopped', pod: pod({ restartPolicy: 'OnFailure' }), observed: observed([sandbox()], [ctr('a', 'exited', { exitCode: 0 })]), want: ['killPod'] },
  { name: 'OnFailure, exit 1: restarted', pod: pod({ restartPolicy: 'OnFailure' }), observed: observed([sandbox()], [ctr('a', 'exited', { exitCode: 1 })]), want: ['start a#1'] },
  { name: 'OnFailure, one done one running: keep the sandbox', pod: pod({ restartPolicy: 'OnFailure', containers: [app('a'), app('b')] }), observed: observed([sandbox()], [ctr('a', 'exited'), ctr('b', 'running')]), want: [] },
  { name: 'completed pod under Never: stop the sandbox once', pod: pod({ restartPolicy: 'Never' }), observed: observed([sandbox()], [ctr('a', 'exited', { exitCode: 3 })]), want: ['killPod'] },
  { name: 'completed pod under Never, sandbox already stopped: no new sandbox', pod: pod({ restartPolicy: 'Never' }), observed: observed([sandbox({ state: 'notready' })], [ctr('a', 'exited', { exitCode: 3 })]), want: [] },
  { name: 'completed pod under OnFailure, sandbox stopped: no new sandbox', pod: pod({ restartPolicy: 'OnFailure' }), observed: observed([sandbox({ state: 'notready' })], [ctr('a', 'exited', { exitCode: 0 })]), want: [] },
  { name: 'spec changed (new image): kill and start again, even under Never', pod: pod({ containers: [app('a', 'busybox:2')], restartPolicy: 'Never' }), observed: observed([sandbox()], [ctr('a', 'running')]), want: ['kill a', 'start a#1'] },
  { name: 'container stuck in created state: kill it, start a new instance', pod: pod(), observed: observed([sandbox()], [ctr('a', 'created')]), want: ['kill a', 'start a#1'] },
];

for (const row of rows) {
  test(row.name, () => {
    const got = computePodActions(row.pod, row.observed, row.backoff ?? noBackoff, NOW);
    assert.deepEqual(describe(got.actions), row.want);
  });
}

test('CrashLoopBackOff says how long, and when to retry', () => {
  const got = computePodActions(pod(), observed([sandbox()], [ctr('a', 'exited', { exitCode: 1, finishedAtMs: NOW - 3000 })]), backoffAfter('a', 2, 3000), NOW);
  const wait = got.actions[0];
  assert.equal(wait.type, 'wait');
  assert.equal(wait.type === 'wait' && wait.message, `back-off 20s restarting failed container=a pod=web_default(${UID})`);
  assert.equal(wait.type === 'wait' && wait.retryAfterMs, 17_000);
});

test('containers go into the current sandbox; a new sandbox leaves sandboxId empty', () => {
  assert.equal(computePodActions(pod(), observed([sandbox()], []), noBackoff, NOW).sandboxId, 'sb1');
  assert.equal(computePodActions(pod(), observed([]), noBackoff, NOW).sandboxId, undefined);
});
