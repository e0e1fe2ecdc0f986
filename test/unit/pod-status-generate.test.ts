// Table tests for generatePodStatus: phase, conditions, container states and the pod-level
// fields, each row a situation a user would see in `kubectl get pod -o yaml`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { generatePodStatus } from '../../src/agent/pod-status/generate-pod-status.ts';
import type { ObservedContainer, ObservedSandbox, RuntimePodStatus, SyncResult } from '../../src/cri/runtime-manager/pod-runtime.ts';
import type { ContainerProbeResults } from '../../src/pod/probe-results.ts';

const NOW = new Date('2026-11-23T12:00:00Z');
const T0 = Date.parse('2026-11-23T11:00:00Z');
const app = (name: string, resources?: V1Container['resources']): V1Container => ({ name, image: `img-${name}`, resources });

function pod(opts: { containers?: V1Container[]; init?: V1Container[]; restartPolicy?: string; status?: V1PodStatus; hostNetwork?: boolean } = {}): V1Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'u1' },
    spec: { containers: opts.containers ?? [app('a')], initContainers: opts.init, restartPolicy: opts.restartPolicy, hostNetwork: opts.hostNetwork },
    status: opts.status,
  };
}
const ready: ObservedSandbox = { id: 'sb', state: 'ready', attempt: 0, createdAtMs: T0, runtimeHandler: '', ips: ['10.1.0.5'] };
const notReady: ObservedSandbox = { ...ready, state: 'notready' };

function ctr(name: string, state: ObservedContainer['state'], opts: Partial<ObservedContainer> = {}): ObservedContainer {
  return {
    id: `${name}${opts.attempt ?? 0}`, name, sandboxId: 'sb', attempt: 0, state, createdAtMs: T0, startedAtMs: T0 + 1000,
    image: `img-${name}`, imageRef: `sha256:${name}`, specHash: 'h',
    ...(state === 'exited' ? { exitCode: 0, finishedAtMs: T0 + 5000 } : {}),
    ...opts,
  };
}
const observed = (sandboxes: ObservedSandbox[], containers: ObservedContainer[] = []): RuntimePodStatus =>
  ({ uid: 'u1', name: 'web', namespace: 'default', sandboxes, containers });
const waiting = (name: string, reason: string, message = ''): SyncResult => ({ failures: [], events: [], waiting: { [name]: { reason, message } } });

function status(p: V1Pod, o: RuntimePodStatus, sync?: SyncResult, podIPs = ['10.1.0.5']): V1PodStatus {
  return generatePodStatus(p, o, sync, { hostIP: '192.168.0.10', podIPs, now: NOW });
}

const phaseRows: Array<{ name: string; pod: V1Pod; observed: RuntimePodStatus; sync?: SyncResult; phase: string }> = [
  { name: 'nothing created yet → Pending', pod: pod(), observed: observed([]), phase: 'Pending' },
  { name: 'all containers running → Running', pod: pod({ containers: [app('a'), app('b')] }), observed: observed([ready], [ctr('a', 'running'), ctr('b', 'running')]), phase: 'Running' },
  { name: 'one running, one still being created → Pending', pod: pod({ containers: [app('a'), app('b')] }), observed: observed([ready], [ctr('a', 'running')]), phase: 'Pending' },
  { name: 'Never, exit 0 → Succeeded', pod: pod({ restartPolicy: 'Never' }), observed: observed([notReady], [ctr('a', 'exited')]), phase: 'Succeeded' },
  { name: 'Never, exit 3 → Failed', pod: pod({ restartPolicy: 'Never' }), observed: observed([notReady], [ctr('a', 'exited', { exitCode: 3 })]), phase: 'Failed' },
  // Found by the fuzzer (npm run fuzz -- --seed 10000 --only 1204): the sync that ran a failing
  // postStart hook reports PostStartHookError; a container that will not restart shows how it
  // ended instead, so exit 0 under Never is Succeeded, not Failed with no reason.
  { name: 'Never, exit 0 with a waiting reason from the last sync → Succeeded', pod: pod({ restartPolicy: 'Never' }), observed: observed([notReady], [ctr('a', 'exited')]), sync: waiting('a', 'PostStartHookError'), phase: 'Succeeded' },
  { name: 'OnFailure, exit 0 with a waiting reason from the last sync → Succeeded', pod: pod({ restartPolicy: 'OnFailure' }), observed: observed([notReady], [ctr('a', 'exited')]), sync: waiting('a', 'PostStartHookError'), phase: 'Succeeded' },
  { name: 'OnFailure, exit 0 → Succeeded', pod: pod({ restartPolicy: 'OnFailure' }), observed: observed([notReady], [ctr('a', 'exited')]), phase: 'Succeeded' },
  { name: 'OnFailure, exit 1 and restarting → Running', pod: pod({ restartPolicy: 'OnFailure' }), observed: observed([ready], [ctr('a', 'exited', { exitCode: 1 })]), sync: waiting('a', 'CrashLoopBackOff'), phase: 'Running' },
  { name: 'Always, crash looping → Running', pod: pod(), observed: observed([ready], [ctr('a', 'exited', { exitCode: 1 })]), sync: waiting('a', 'CrashLoopBackOff'), phase: 'Running' },
  { name: 'image pull failing → Pending', pod: pod(), observed: observed([ready]), sync: waiting('a', 'ErrImagePull'), phase: 'Pending' },
  { name: 'init container running → Pending', pod: pod({ init: [app('i')] }), observed: observed([ready], [ctr('i', 'running')]), phase: 'Pending' },
  { name: 'init container failed under Never → Failed', pod: pod({ init: [app('i')], restartPolicy: 'Never' }), observed: observed([notReady], [ctr('i', 'exited', { exitCode: 1 })]), phase: 'Failed' },
  { name: 'init container failed under Always, backing off → Pending', pod: pod({ init: [app('i')] }), observed: observed([ready], [ctr('i', 'exited', { exitCode: 1 })]), sync: waiting('i', 'CrashLoopBackOff'), phase: 'Pending' },
  { name: 'init done, app running → Running', pod: pod({ init: [app('i')] }), observed: observed([ready], [ctr('i', 'exited'), ctr('a', 'running')]), phase: 'Running' },
  { name: 'terminal phase never goes back (Succeeded stays although a container shows running)', pod: pod({ restartPolicy: 'Never', status: { phase: 'Succeeded' } }), observed: observed([ready], [ctr('a', 'running')]), phase: 'Succeeded' },
  { name: 'terminal phase never goes back (Failed)', pod: pod({ status: { phase: 'Failed' } }), observed: observed([]), phase: 'Failed' },
];

for (const row of phaseRows) {
  test(`phase: ${row.name}`, () => assert.equal(status(row.pod, row.observed, row.sync).phase, row.phase));
}

function conditionsOf(s: V1PodStatus): Record<string, string> {
  return Object.fromEntries((s.conditions ?? []).map(c => [c.type, c.reason ? `${c.status} ${c.reason}` : c.status]));
}

test('conditions: a running pod is ready in every way', () => {
  assert.deepEqual(conditionsOf(status(pod(), observed([ready], [ctr('a', 'running')]))),
    { PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });
});

test('conditions: init in progress names the incomplete and unready containers', () => {
  const s = status(pod({ init: [app('i1'), app('i2')], containers: [app('a'), app('b')] }), observed([ready], [ctr('i1', 'exited'), ctr('i2', 'running')]));
  const byType = Object.fromEntries((s.conditions ?? []).map(c => [c.type, c]));
  assert.equal(byType.Initialized!.reason, 'ContainersNotInitialized');
  assert.equal(byType.Initialized!.message, 'containers with incomplete status: [i2]');
  assert.equal(byType.Ready!.message, 'containers with unready status: [a b]');
  assert.equal(byType.ContainersReady!.reason, 'ContainersNotReady');
});

test('conditions: a completed pod is not ready because it completed; its sandbox is gone', () => {
  assert.deepEqual(conditionsOf(status(pod({ restartPolicy: 'Never' }), observed([notReady], [ctr('a', 'exited')]))),
    { PodReadyToStartContainers: 'False', Initialized: 'True PodCompleted', Ready: 'False PodCompleted', ContainersReady: 'False PodCompleted', PodScheduled: 'True' });
});

test('conditions: lastTransitionTime is kept when the status did not change, and moves when it did', () => {
  const earlier = new Date('2026-11-23T10:00:00Z');
  const previous: V1PodStatus = { conditions: [
    { type: 'Ready', status: 'False', lastTransitionTime: earlier },
    { type: 'Initialized', status: 'True', lastTransitionTime: earlier },
    { type: 'PodScheduled', status: 'True', lastTransitionTime: earlier },
  ] };
  const s = status(pod({ status: previous }), observed([ready], [ctr('a', 'running')]));
  const byType = Object.fromEntries((s.conditions ?? []).map(c => [c.type, c]));
  assert.deepEqual(byType.Initialized!.lastTransitionTime, earlier);
  assert.deepEqual(byType.PodScheduled!.lastTransitionTime, earlier);
  assert.deepEqual(byType.Ready!.lastTransitionTime, NOW);
});

test('container status: running container with its id, image and start time', () => {
  const [cs] = status(pod(), observed([ready], [ctr('a', 'running')])).containerStatuses!;
  assert.deepEqual(cs, {
    name: 'a', image: 'img-a', imageID: 'sha256:a', containerID: 'containerd://a0', ready: true, started: true, restartCount: 0,
    state: { running: { startedAt: new Date(T0 + 1000) } }, lastState: {},
  });
});

test('container status: exited container shows terminated with exit code, reason and message', () => {
  const [cs] = status(pod({ restartPolicy: 'Never' }), observed([notReady], [ctr('a', 'exited', { exitCode: 3, message: 'boom' })])).containerStatuses!;
  assert.deepEqual(cs!.state, { terminated: { exitCode: 3, reason: 'Error', message: 'boom', startedAt: new Date(T0 + 1000), finishedAt: new Date(T0 + 5000), containerID: 'containerd://a0' } });
  assert.equal(cs!.ready, false);
});

test('container status: crash loop shows waiting CrashLoopBackOff, lastState the crash, restartCount', () => {
  const o = observed([ready], [ctr('a', 'exited', { exitCode: 1, attempt: 2 }), ctr('a', 'exited', { exitCode: 1, attempt: 1 })]);
  const [cs] = status(pod(), o, waiting('a', 'CrashLoopBackOff', 'back-off 40s restarting failed container=a pod=web_default(u1)')).containerStatuses!;
  assert.deepEqual(cs!.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=a pod=web_default(u1)' } });
  assert.equal(cs!.lastState!.terminated!.exitCode, 1);
  assert.equal(cs!.lastState!.terminated!.containerID, 'containerd://a2');
  assert.equal(cs!.restartCount, 2);
});

test('container status: a restarted running container keeps the previous run as lastState', () => {
  const o = observed([ready], [ctr('a', 'running', { attempt: 1 }), ctr('a', 'exited', { exitCode: 137, reason: 'OOMKilled' })]);
  const [cs] = status(pod(), o).containerStatuses!;
  assert.ok(cs!.state!.running);
  assert.equal(cs!.lastState!.terminated!.reason, 'OOMKilled');
  assert.equal(cs!.restartCount, 1);
});

test('container status: not yet created → ContainerCreating, or PodInitializing behind init containers', () => {
  assert.deepEqual(status(pod(), observed([ready])).containerStatuses![0]!.state, { waiting: { reason: 'ContainerCreating' } });
  const s = status(pod({ init: [app('i')] }), observed([ready], [ctr('i', 'running')]));
  assert.deepEqual(s.containerStatuses![0]!.state, { waiting: { reason: 'PodInitializing' } });
  assert.equal(s.initContainerStatuses![0]!.ready, false);
});

test('container status: a sync failure before any instance shows as waiting with its reason', () => {
  const [cs] = status(pod(), observed([ready]), waiting('a', 'ErrImageNeverPull', 'Container image "img-a" is not present with pull policy of Never')).containerStatuses!;
  assert.deepEqual(cs!.state, { waiting: { reason: 'ErrImageNeverPull', message: 'Container image "img-a" is not present with pull policy of Never' } });
});

test('container status: containerID uses the runtime name', () => {
  const s = generatePodStatus(pod(), observed([ready], [ctr('a', 'running')]), undefined, { hostIP: 'h', podIPs: [], now: NOW, runtimeName: 'sim' });
  assert.equal(s.containerStatuses![0]!.containerID, 'sim://a0');
});

test('pod fields: IPs, host IP, start time kept, QoS class', () => {
  const s = status(pod(), observed([ready], [ctr('a', 'running')]), undefined, ['10.1.0.5', 'fd00::5']);
  assert.equal(s.podIP, '10.1.0.5');
  assert.deepEqual(s.podIPs, [{ ip: '10.1.0.5' }, { ip: 'fd00::5' }]);
  assert.equal(s.hostIP, '192.168.0.10');
  assert.deepEqual(s.hostIPs, [{ ip: '192.168.0.10' }]);
  assert.deepEqual(s.startTime, NOW);
  const started = new Date('2026-11-23T09:00:00Z');
  assert.deepEqual(status(pod({ status: { startTime: started } }), observed([ready])).startTime, started);
});

test('pod fields: a hostNetwork pod reports the node IP; a finished pod keeps its last IPs', () => {
  assert.equal(status(pod({ hostNetwork: true }), observed([ready]), undefined, []).podIP, '192.168.0.10');
  assert.equal(status(pod({ status: { podIPs: [{ ip: '10.1.0.9' }] } }), observed([notReady]), undefined, []).podIP, '10.1.0.9');
});

const qosRows: Array<{ name: string; containers: V1Container[]; qos: string }> = [
  { name: 'no requests or limits → BestEffort', containers: [app('a'), app('b')], qos: 'BestEffort' },
  { name: 'limits only (requests default to them) → Guaranteed', containers: [app('a', { limits: { cpu: '500m', memory: '128Mi' } })], qos: 'Guaranteed' },
  { name: 'requests equal limits, different spelling → Guaranteed', containers: [app('a', { requests: { cpu: '0.5', memory: '128Mi' }, limits: { cpu: '500m', memory: '134217728' } })], qos: 'Guaranteed' },
  { name: 'requests below limits → Burstable', containers: [app('a', { requests: { cpu: '100m' }, limits: { cpu: '500m', memory: '128Mi' } })], qos: 'Burstable' },
  { name: 'one container without resources → Burstable', containers: [app('a', { limits: { cpu: '1', memory: '1Gi' } }), app('b')], qos: 'Burstable' },
];
for (const row of qosRows) {
  test(`qosClass: ${row.name}`, () => assert.equal(status(pod({ containers: row.containers }), observed([])).qosClass, row.qos));
}

// Probes, sidecars, readiness gates and the reason a final phase was given.
const withProbes = (o: RuntimePodStatus, by: Record<string, ContainerProbeResults>, p: V1Pod) =>
  generatePodStatus(p, o, undefined, { hostIP: '192.168.0.10', podIPs: ['10.1.0.5'], now: NOW, probeResults: (id) => by[id] });
const readinessProbed = (name: string): V1Container => ({ ...app(name), readinessProbe: { httpGet: { port: 80 } } });
const startupProbed = (name: string): V1Container => ({ ...app(name), startupProbe: { exec: { command: ['true'] } } });
const sidecarC = (name: string, extra: Partial<V1Container> = {}): V1Container => ({ ...app(name), restartPolicy: 'Always', ...extra });
const cond = (s: V1PodStatus, type: string) => s.conditions?.find((c) => c.type === type);

test('readiness probe: a running container is not ready until its probe passed', () => {
  const p = pod({ containers: [readinessProbed('a')] });
  const o = observed([ready], [ctr('a', 'running')]);
  const before = withProbes(o, { a0: { readiness: 'failure' } }, p);
  assert.equal(before.containerStatuses![0]!.ready, false);
  assert.equal(before.containerStatuses![0]!.started, true);
  assert.equal(before.phase, 'Running');
  assert.deepEqual([cond(before, 'Ready')?.status, cond(before, 'Ready')?.reason, cond(before, 'Ready')?.message], ['False', 'ContainersNotReady', 'containers with unready status: [a]']);
  const after = withProbes(o, { a0: { readiness: 'success' } }, p);
  assert.equal(after.containerStatuses![0]!.ready, true);
  assert.equal(cond(after, 'ContainersReady')?.status, 'True');
  assert.equal(withProbes(o, {}, p).containerStatuses![0]!.ready, false, 'no verdict yet: not ready');
});

test('startup probe: started and ready wait for it', () => {
  const p = pod({ containers: [startupProbed('a')] });
  const o = observed([ready], [ctr('a', 'running')]);
  const s = withProbes(o, { a0: { startup: 'unknown' } }, p).containerStatuses![0]!;
  assert.deepEqual([s.started, s.ready], [false, false]);
  const t = withProbes(o, { a0: { startup: 'success' } }, p).containerStatuses![0]!;
  assert.deepEqual([t.started, t.ready], [true, true]);
});

test('sidecar: Pending until started, then in initContainerStatuses, ready, and part of ContainersReady', () => {
  const p = pod({ init: [sidecarC('s', { startupProbe: { exec: { command: ['true'] } } })] });
  const waitingForStart = withProbes(observed([ready], [ctr('s', 'running')]), { s0: { startup: 'unknown' } }, p);
  assert.equal(waitingForStart.phase, 'Pending');
  assert.equal(cond(waitingForStart, 'Initialized')?.status, 'False');
  const running = withProbes(observed([ready], [ctr('s', 'running'), ctr('a', 'running')]), { s0: { startup: 'success' } }, p);
  assert.equal(running.phase, 'Running');
  assert.equal(cond(running, 'Initialized')?.status, 'True');
  assert.deepEqual([running.initContainerStatuses![0]!.started, running.initContainerStatuses![0]!.ready], [true, true]);
  assert.equal(cond(running, 'Ready')?.status, 'True');
  const sidecarUnready = withProbes(observed([ready], [ctr('s', 'running'), ctr('a', 'running')]), { s0: { startup: 'success', readiness: 'failure' } },
    pod({ init: [sidecarC('s', { startupProbe: { exec: { command: ['true'] } }, readinessProbe: { exec: { command: ['true'] } } })] }));
  assert.equal(cond(sidecarUnready, 'ContainersReady')?.message, 'containers with unready status: [s]');
});

test('sidecar: a Job-style pod whose app finished is Succeeded (or Failed) however its sidecar ended', () => {
  const done = observed([notReady], [ctr('s', 'exited', { exitCode: 137 }), ctr('a', 'exited', { exitCode: 0 })]);
  assert.equal(status(pod({ init: [sidecarC('s')], restartPolicy: 'Never' }), done).phase, 'Succeeded');
  const failed = observed([notReady], [ctr('s', 'exited', { exitCode: 0 }), ctr('a', 'exited', { exitCode: 2 })]);
  assert.equal(status(pod({ init: [sidecarC('s')], restartPolicy: 'Never' }), failed).phase, 'Failed');
  const stillRunning = observed([ready], [ctr('s', 'running'), ctr('a', 'exited', { exitCode: 0 })]);
  assert.equal(status(pod({ init: [sidecarC('s')], restartPolicy: 'Never' }), stillRunning).phase, 'Running', 'until the sidecar is stopped');
});

test('readiness gates: Ready waits for each gate condition, with the kubelet\'s messages', () => {
  const gated = (conditions: V1PodStatus['conditions']): V1Pod => ({ ...pod({ status: { conditions } }), spec: { ...pod().spec!, readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] } });
  const o = observed([ready], [ctr('a', 'running')]);
  const none = status(gated([]), o);
  assert.equal(cond(none, 'ContainersReady')?.status, 'True');
  assert.deepEqual([cond(none, 'Ready')?.status, cond(none, 'Ready')?.reason, cond(none, 'Ready')?.message], ['False', 'ReadinessGatesNotReady',
    'corresponding condition of pod readiness gate "example.com/lb" does not exist., corresponding condition of pod readiness gate "example.com/dns" does not exist.']);
  const oneFalse = status(gated([{ type: 'example.com/lb', status: 'True' }, { type: 'example.com/dns', status: 'False' }]), o);
  assert.equal(cond(oneFalse, 'Ready')?.message, 'the status of pod readiness gate "example.com/dns" is not "True", but False');
  const both = status(gated([{ type: 'example.com/lb', status: 'True' }, { type: 'example.com/dns', status: 'True' }]), o);
  assert.equal(cond(both, 'Ready')?.status, 'True');
  assert.equal(cond(both, 'example.com/lb')?.status, 'True', 'the gate conditions themselves are kept');
});

test('a final phase keeps the reason and message it was given', () => {
  const p = pod({ status: { phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' } });
  const s = status(p, observed([notReady], [ctr('a', 'exited', { exitCode: 137 })]));
  assert.deepEqual([s.phase, s.reason, s.message], ['Failed', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline']);
});
