// Table tests for computePodActions: each row is one situation a pod can be in, and the
// actions the manager must take next (in order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { computePodActions, type PodAction } from '../../src/cri/runtime-manager/compute-pod-actions.ts';
import { Backoff, containerBackoffKey } from '../../src/cri/runtime-manager/backoff.ts';
import { containerSpecHash } from '../../src/cri/runtime-manager/labels.ts';
import type { ObservedContainer, ObservedSandbox, RuntimePodStatus } from '../../src/cri/runtime-manager/pod-runtime.ts';
import type { ContainerProbeResults, ProbeResultsView } from '../../src/pod/probe-results.ts';

const UID = 'uid-1';
const NOW = 1_000_000;
const app = (name: string, image = 'busybox'): V1Container => ({ name, image });

function pod(opts: { containers?: V1Container[]; init?: V1Container[]; ephemeral?: V1Container[]; restartPolicy?: string; hostNetwork?: boolean } = {}): V1Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: UID },
    spec: { containers: opts.containers ?? [app('a')], initContainers: opts.init, ephemeralContainers: opts.ephemeral, restartPolicy: opts.restartPolicy, hostNetwork: opts.hostNetwork },
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
      case 'killContainer': return a.gracePeriodSeconds !== undefined ? `kill ${a.name} grace=${a.gracePeriodSeconds}` : `kill ${a.name}`;
      case 'startContainer': return `${a.ephemeral ? 'startEphemeral' : a.init ? 'startInit' : 'start'} ${a.name}#${a.attempt}`;
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

/** The prober's verdicts, by container ID (ctr() gives IDs "<name>-<attempt>"). */
const verdicts = (by: Record<string, ContainerProbeResults>): ProbeResultsView => (id) => by[id];
const sidecar = (name: string, extra: Partial<V1Container> = {}): V1Container => ({ ...app(name), restartPolicy: 'Always', ...extra });
const live = (name: string, extra: Partial<V1Container> = {}): V1Container => ({ ...app(name), livenessProbe: { exec: { command: ['true'] } }, ...extra });

const rows: Array<{ name: string; pod: V1Pod; observed: RuntimePodStatus; backoff?: Backoff; probes?: ProbeResultsView; want: string[] }> = [
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

  // Probes: a failed liveness or startup verdict replaces the running container, at once (no backoff).
  { name: 'liveness failed: kill and start again', pod: pod({ containers: [live('a')] }), observed: observed([sandbox()], [ctr('a', 'running', { spec: live('a') })]), probes: verdicts({ 'a-0': { liveness: 'failure' } }), want: ['kill a', 'start a#1'] },
  { name: 'liveness failed under Never: kill, no restart', pod: pod({ containers: [live('a')], restartPolicy: 'Never' }), observed: observed([sandbox()], [ctr('a', 'running', { spec: live('a') })]), probes: verdicts({ 'a-0': { liveness: 'failure' } }), want: ['kill a'] },
  { name: 'startup failed: kill and start again', pod: pod({ containers: [live('a')] }), observed: observed([sandbox()], [ctr('a', 'running', { spec: live('a') })]), probes: verdicts({ 'a-0': { startup: 'failure' } }), want: ['kill a', 'start a#1'] },
  { name: 'liveness failed with a probe-level grace period: the kill uses it', pod: pod({ containers: [live('a', { livenessProbe: { exec: { command: ['true'] }, terminationGracePeriodSeconds: 3 } })] }), observed: observed([sandbox()], [ctr('a', 'running', { spec: live('a', { livenessProbe: { exec: { command: ['true'] }, terminationGracePeriodSeconds: 3 } }) })]), probes: verdicts({ 'a-0': { liveness: 'failure' } }), want: ['kill a grace=3', 'start a#1'] },
  { name: 'a failed verdict for an older instance does not kill the new one', pod: pod({ containers: [live('a')] }), observed: observed([sandbox()], [ctr('a', 'running', { attempt: 1, spec: live('a') })]), probes: verdicts({ 'a-0': { liveness: 'failure' } }), want: [] },
  { name: 'readiness failure never kills', pod: pod(), observed: observed([sandbox()], [ctr('a', 'running')]), probes: verdicts({ 'a-0': { readiness: 'failure' } }), want: [] },

  // Sidecars: init containers with restartPolicy Always.
  { name: 'sidecar first: fresh pod starts it alone', pod: pod({ init: [sidecar('s')] }), observed: observed([]), want: ['createSandbox#0', 'startInit s#0'] },
  { name: 'sidecar running (no startup probe): the next container starts', pod: pod({ init: [sidecar('s'), app('i')] }), observed: observed([sandbox()], [ctr('s', 'running', { spec: sidecar('s') })]), want: ['startInit i#0'] },
  { name: 'sidecar running, startup probe not passed: wait', pod: pod({ init: [sidecar('s', { startupProbe: { exec: { command: ['true'] } } })] }), observed: observed([sandbox()], [ctr('s', 'running')]), probes: verdicts({ 's-0': { startup: 'unknown' } }), want: [] },
  { name: 'sidecar started (startup probe passed): the app starts', pod: pod({ init: [sidecar('s', { startupProbe: { exec: { command: ['true'] } } })] }), observed: observed([sandbox()], [ctr('s', 'running')]), probes: verdicts({ 's-0': { startup: 'success' } }), want: ['start a#0'] },
  { name: 'sidecar exited during init, even under Never: restart it', pod: pod({ init: [sidecar('s')], restartPolicy: 'Never' }), observed: observed([sandbox()], [ctr('s', 'exited', { exitCode: 1 })]), want: ['startInit s#1'] },
  { name: 'sidecar exited beside a running app: restart it, app kept', pod: pod({ init: [sidecar('s')] }), observed: observed([sandbox()], [ctr('s', 'exited', { exitCode: 0 }), ctr('a', 'running')]), want: ['startInit s#1'] },
  { name: 'sidecar exited and in backoff: CrashLoopBackOff', pod: pod({ init: [sidecar('s')] }), observed: observed([sandbox()], [ctr('s', 'exited', { exitCode: 1, finishedAtMs: NOW - 2000 }), ctr('a', 'running')]), backoff: backoffAfter('s', 1, 2000, sidecar('s')), want: ['wait s CrashLoopBackOff'] },
  { name: 'sidecar liveness failed: restart it', pod: pod({ init: [sidecar('s')] }), observed: observed([sandbox()], [ctr('s', 'running', { spec: sidecar('s') }), ctr('a', 'running')]), probes: verdicts({ 's-0': { liveness: 'failure' } }), want: ['kill s', 'startInit s#1'] },
  { name: 'Job-style: app done under Never, sidecar running: stop the pod', pod: pod({ init: [sidecar('s')], restartPolicy: 'Never' }), observed: observed([sandbox()], [ctr('s', 'running', { spec: sidecar('s') }), ctr('a', 'exited', { exitCode: 0 })]), want: ['killPod'] },
  // Ephemeral containers (kubectl debug): started once in the running sandbox, never restarted.
  { name: 'ephemeral container added to a running pod: start it', pod: pod({ ephemeral: [app('dbg')] }), observed: observed([sandbox()], [ctr('a', 'running')]), want: ['startEphemeral dbg#0'] },
  { name: 'ephemeral container starts even while init is in progress', pod: pod({ init: [app('i')], ephemeral: [app('dbg')] }), observed: observed([sandbox()], [ctr('i', 'running')]), want: ['startEphemeral dbg#0'] },
  { name: 'ephemeral container that exited is not restarted', pod: pod({ ephemeral: [app('dbg')] }), observed: observed([sandbox()], [ctr('a', 'running'), ctr('dbg', 'exited', { exitCode: 1 })]), want: [] },
  { name: 'a completed pod starts no ephemeral container', pod: pod({ restartPolicy: 'Never', ephemeral: [app('dbg')] }), observed: observed([sandbox()], [ctr('a', 'exited', { exitCode: 0 })]), want: ['killPod'] },
  { name: 'initialized pod: a regular init container is not run again', pod: pod({ init: [app('i'), sidecar('s')] }), observed: observed([sandbox()], [ctr('s', 'running', { spec: sidecar('s') }), ctr('a', 'running')]), want: [] },
];

for (const row of rows) {
  test(row.name, () => {
    const got = computePodActions(row.pod, row.observed, row.backoff ?? noBackoff, NOW, row.probes);
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
