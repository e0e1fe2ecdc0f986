// The evented PLEG: which pod an event names, which PLEG runs after the stream opened, failed
// or ended (pure, table-tested), and the composition over a fake runtime and event source:
// events wake their pod at once, UNIMPLEMENTED keeps the fast relist for good, a broken stream
// brings the fast relist back and is retried. Last, the running gauges' tally between relists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Observable, Subject, firstValueFrom } from 'rxjs';
import { CriError, GrpcStatus } from '../../src/cri/errors.ts';
import type { ContainerEventsOptions } from '../../src/cri/client.ts';
import type { PodRuntime, RuntimePodStatus } from '../../src/cri/runtime-manager/pod-runtime.ts';
import type { ContainerEventResponse, ContainerStatus, PodSandboxStatus } from '../../src/cri/types.ts';
import { plegAfter, podUidOfEvent, type StreamOutcome } from '../../src/agent/pleg/evented-pleg-rules.ts';
import { eventedPodLifecycleEvents } from '../../src/agent/pleg/evented-pleg.ts';
import { RunningTally } from '../../src/agent/pleg/running-tally.ts';
import { runningCounts } from '../../src/agent/metrics/agent-metrics.ts';
import { waitFor } from '../../src/world/wait.ts';

const UID_LABEL = 'io.kubernetes.pod.uid';

function sandbox(id: string, labels: Record<string, string>, metadataUid = ''): PodSandboxStatus {
  return {
    id, metadata: { name: 'p', uid: metadataUid, namespace: 'default', attempt: 0 }, state: 'SANDBOX_READY', createdAt: 1,
    network: null, linux: null, labels, annotations: {}, runtimeHandler: '',
  };
}

function container(id: string, labels: Record<string, string>): ContainerStatus {
  return {
    id, metadata: { name: 'c', attempt: 0 }, state: 'CONTAINER_RUNNING', createdAt: 1, startedAt: 1, finishedAt: 0, exitCode: 0,
    image: null, imageRef: '', reason: '', message: '', labels, annotations: {}, mounts: [], logPath: '', resources: null, imageId: '',
  };
}

function event(containerId: string, podSandboxStatus: PodSandboxStatus | null, containersStatuses: ContainerStatus[] = [], type: ContainerEventResponse['containerEventType'] = 'CONTAINER_STARTED_EVENT'): ContainerEventResponse {
  return { containerId, containerEventType: type, createdAt: Date.now() * 1e6, podSandboxStatus, containersStatuses };
}

const uidCases: Array<{ name: string; event: ContainerEventResponse; known?: Map<string, string>; uid: string | undefined }> = [
  { name: "the sandbox's uid label", event: event('c1', sandbox('s1', { [UID_LABEL]: 'u-label' }, 'u-meta'), [container('c1', { [UID_LABEL]: 'u-other' })]), uid: 'u-label' },
  { name: "the sandbox's metadata without a label", event: event('s1', sandbox('s1', {}, 'u-meta')), uid: 'u-meta' },
  { name: "the container's label when the sandbox is gone", event: event('c1', null, [container('c0', { [UID_LABEL]: 'u-0' }), container('c1', { [UID_LABEL]: 'u-1' })]), uid: 'u-1' },
  { name: 'an id seen before, for a deleted one', event: event('c9', null, [], 'CONTAINER_DELETED_EVENT'), known: new Map([['c9', 'u-9']]), uid: 'u-9' },
  { name: 'nothing at all', event: event('c9', null, [], 'CONTAINER_DELETED_EVENT'), uid: undefined },
];
for (const c of uidCases) {
  test(`evented PLEG: the pod of an event: ${c.name}`, () => {
    assert.equal(podUidOfEvent(c.event, c.known), c.uid);
  });
}

const backoff = { initialMs: 1000, maxMs: 5000 };
const decisionCases: Array<{ name: string; outcome: StreamOutcome; failures: number; mode: string; retryInMs: number | undefined }> = [
  { name: 'opened: events', outcome: { kind: 'opened' }, failures: 0, mode: 'evented', retryInMs: undefined },
  { name: 'UNIMPLEMENTED (containerd 1.6): relist, never ask again', outcome: { kind: 'failed', code: GrpcStatus.UNIMPLEMENTED }, failures: 1, mode: 'generic', retryInMs: undefined },
  { name: 'UNAVAILABLE once: relist, retry after the first delay', outcome: { kind: 'failed', code: GrpcStatus.UNAVAILABLE }, failures: 1, mode: 'generic', retryInMs: 1000 },
  { name: 'UNAVAILABLE a third time: the delay doubled twice', outcome: { kind: 'failed', code: GrpcStatus.UNAVAILABLE }, failures: 3, mode: 'generic', retryInMs: 4000 },
  { name: 'many failures: the delay capped', outcome: { kind: 'failed', code: GrpcStatus.UNKNOWN }, failures: 40, mode: 'generic', retryInMs: 5000 },
  { name: 'not a gRPC error: retried', outcome: { kind: 'failed', code: undefined }, failures: 1, mode: 'generic', retryInMs: 1000 },
  { name: 'the runtime ended the stream: retried', outcome: { kind: 'ended' }, failures: 2, mode: 'generic', retryInMs: 2000 },
];
for (const c of decisionCases) {
  test(`evented PLEG: after the stream: ${c.name}`, () => {
    const d = plegAfter(c.outcome, c.failures, backoff);
    assert.equal(d.mode, c.mode);
    assert.equal(d.retryInMs, c.retryInMs);
  });
}

// --- the composition -------------------------------------------------------------------

const GENERIC_MS = 20;
const EVENTED_MS = 60_000;

function fakeRuntime(pods: RuntimePodStatus[] = []) {
  const runtime = { relists: 0, relist: async () => { runtime.relists++; return pods; } };
  return runtime;
}

function capturedLogger() {
  const lines: Array<{ msg: string; pleg?: string; relistPeriodMs?: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s)); } });
  return { logger, lines, modes: () => lines.filter((l) => l.pleg).map((l) => `${l.pleg}@${l.relistPeriodMs}`) };
}

/** An event source whose streams the test drives: each open gets its own Subject. */
function fakeSource(answer: (n: number, subject: Subject<ContainerEventResponse>, opts: ContainerEventsOptions) => void) {
  const streams: Subject<ContainerEventResponse>[] = [];
  const source = (opts: ContainerEventsOptions) => new Observable<ContainerEventResponse>((subscriber) => {
    const subject = new Subject<ContainerEventResponse>();
    streams.push(subject);
    const sub = subject.subscribe(subscriber);
    answer(streams.length, subject, opts);
    return () => sub.unsubscribe();
  });
  return { source, streams };
}

test('evented PLEG: UNIMPLEMENTED keeps the fast relist and never asks again', async () => {
  const runtime = fakeRuntime();
  const log = capturedLogger();
  const { source, streams } = fakeSource((_n, s) => s.error(new CriError('GetContainerEvents', GrpcStatus.UNIMPLEMENTED, 'unknown method')));
  const sub = eventedPodLifecycleEvents(runtime as unknown as PodRuntime, log.logger, {
    relistPeriodMs: GENERIC_MS, eventedRelistPeriodMs: EVENTED_MS, containerEvents: source, streamBackoff: { initialMs: 5, maxMs: 5 },
  }).subscribe();
  try {
    await waitFor(() => runtime.relists >= 5, { what: 'five relists at the generic period', timeoutMs: 5000 });
    assert.equal(streams.length, 1, 'the stream is not asked for again');
    assert.deepEqual(log.modes(), [`generic@${GENERIC_MS}`], 'one line says which PLEG runs');
  } finally {
    sub.unsubscribe();
  }
});

test('evented PLEG: an open stream wakes the pod per event and slows the relist; a break brings the fast relist back and retries', async () => {
  const pods: RuntimePodStatus[] = [];
  const runtime = fakeRuntime(pods);
  const log = capturedLogger();
  const invalidated: string[] = [];
  const cache = { relistStarted: () => 0, relisted: () => {}, eventSeen: (uid: string, id: string, change: string) => { invalidated.push(`${uid}/${id}/${change}`); return false; } };
  const { source, streams } = fakeSource((_n, _s, opts) => opts.onOpen?.());
  const woken = new Subject<string>();
  const sub = eventedPodLifecycleEvents(runtime as unknown as PodRuntime, log.logger, {
    relistPeriodMs: GENERIC_MS, eventedRelistPeriodMs: EVENTED_MS, containerEvents: source, cache, streamBackoff: { initialMs: 10, maxMs: 10 },
  }).subscribe(woken);
  try {
    await waitFor(() => log.modes().includes(`evented@${EVENTED_MS}`), { what: 'the evented PLEG', timeoutMs: 5000 });
    // The switch relists once at once (for what changed before the stream opened), then not for EVENTED_MS.
    await waitFor(() => runtime.relists >= 1, { what: 'the catch-up relist', timeoutMs: 5000 });
    const afterSwitch = runtime.relists;

    const next = firstValueFrom(woken);
    streams[0]!.next(event('c1', sandbox('s1', { [UID_LABEL]: 'pod-a' }), [container('c1', { [UID_LABEL]: 'pod-a' })], 'CONTAINER_STOPPED_EVENT'));
    assert.equal(await next, 'pod-a', 'the event woke its pod');
    assert.deepEqual(invalidated, ['pod-a/c1/stopped'], 'the pod cache heard of the event first');

    // A window of many generic periods passes without a relist: only events drive the pods now.
    await new Promise((r) => setTimeout(r, GENERIC_MS * 10));
    assert.equal(runtime.relists, afterSwitch, 'no relist at the generic period while events flow');

    streams[0]!.error(new CriError('GetContainerEvents', GrpcStatus.UNAVAILABLE, 'runtime went away'));
    await waitFor(() => streams.length >= 2, { what: 'the stream retried', timeoutMs: 5000 });
    await waitFor(() => log.modes().filter((m) => m.startsWith('evented')).length >= 2, { what: 'evented again after the retry', timeoutMs: 5000 });
    assert.deepEqual(log.modes(), [`evented@${EVENTED_MS}`, `generic@${GENERIC_MS}`, `evented@${EVENTED_MS}`]);
    assert.ok(runtime.relists > afterSwitch, 'the break relisted');
  } finally {
    sub.unsubscribe();
  }
});

test('evented PLEG: an event that names no pod relists, and the relist wakes what changed', async () => {
  const pods: RuntimePodStatus[] = [];
  const runtime = fakeRuntime(pods);
  const log = capturedLogger();
  const { source, streams } = fakeSource((_n, _s, opts) => opts.onOpen?.());
  const woken: string[] = [];
  const sub = eventedPodLifecycleEvents(runtime as unknown as PodRuntime, log.logger, {
    relistPeriodMs: GENERIC_MS, eventedRelistPeriodMs: EVENTED_MS, containerEvents: source,
    initial: new Map([['pod-gone', 's:sb:ready']]),
  }).subscribe((uid) => woken.push(uid));
  try {
    await waitFor(() => log.modes().includes(`evented@${EVENTED_MS}`), { what: 'the evented PLEG', timeoutMs: 5000 });
    await waitFor(() => woken.includes('pod-gone'), { what: 'the catch-up relist saw the pod gone', timeoutMs: 5000 });
    const before = runtime.relists;
    pods.push({ uid: 'pod-new', name: 'n', namespace: 'default', sandboxes: [{ id: 'sb2', state: 'ready', attempt: 0, createdAtMs: 1, runtimeHandler: '', ips: [] }], containers: [] });
    streams[0]!.next(event('sb2', null, [], 'CONTAINER_DELETED_EVENT'));
    await waitFor(() => woken.includes('pod-new'), { what: 'the relist the event asked for', timeoutMs: 5000 });
    assert.equal(runtime.relists, before + 1);
  } finally {
    sub.unsubscribe();
  }
});

// --- the running gauges between relists ----------------------------------------------------

test('evented PLEG: the running tally starts from a relist and follows each event of a sandbox', () => {
  const relisted: RuntimePodStatus[] = [{
    uid: 'pod-a', name: 'a', namespace: 'default',
    sandboxes: [{ id: 'sa', state: 'ready', attempt: 0, createdAtMs: 1, runtimeHandler: '', ips: [] }],
    containers: [{ id: 'ca', name: 'c', sandboxId: 'sa', attempt: 0, state: 'running', createdAtMs: 1, image: 'i', imageRef: 'i', specHash: 'h' }],
  }];
  const tally = new RunningTally();
  tally.relisted(relisted);
  assert.deepEqual(tally.counts(), runningCounts(relisted), 'a relist counts as agent-metrics counts it');

  const labels = { [UID_LABEL]: 'pod-b' };
  const exited = { ...container('cb', labels), state: 'CONTAINER_EXITED' as const };
  tally.apply('pod-b', event('sb', sandbox('sb', labels), [], 'CONTAINER_STARTED_EVENT'));
  tally.apply('pod-b', event('cb', sandbox('sb', labels), [container('cb', labels)], 'CONTAINER_STARTED_EVENT'));
  assert.deepEqual(tally.counts(), { pods: 2, containers: { created: 0, running: 2, exited: 0, unknown: 0 } });
  tally.apply('pod-b', event('cb', sandbox('sb', labels), [exited], 'CONTAINER_STOPPED_EVENT'));
  assert.deepEqual(tally.counts(), { pods: 2, containers: { created: 0, running: 1, exited: 1, unknown: 0 } });
  tally.apply('pod-b', event('sb', { ...sandbox('sb', labels), state: 'SANDBOX_NOTREADY' }, [exited], 'CONTAINER_STOPPED_EVENT'));
  assert.deepEqual(tally.counts(), { pods: 1, containers: { created: 0, running: 1, exited: 1, unknown: 0 } });
  tally.apply('pod-b', event('cb', sandbox('sb', labels), [], 'CONTAINER_DELETED_EVENT'));
  tally.apply('pod-b', event('sb', null, [], 'CONTAINER_DELETED_EVENT'));
  assert.deepEqual(tally.counts(), runningCounts(relisted), 'pod-b gone: back to what the relist saw');
});
