// The pod timeline buffer, through the agent's own tracing: spans filed under the pod their
// root names, children by trace, the bounds (pods, spans per pod) with the oldest dropped and
// counted, lookups by name (the newest pod of a name), open spans, failures, and no SDK at all
// with timelines and export both off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createAgentTracing } from '../../src/trace/agent-tracing.ts';
import { inSpan } from '../../src/trace/in-span.ts';
import { noTracing, startTracing } from '../../src/trace/tracing.ts';
import { traceHeaders } from '../../src/trace/propagation.ts';
import { orderSpans } from '../../src/trace/timeline-buffer.ts';

const silent = pino({ level: 'silent' });
const pod = (name: string, uid = `uid-${name}`) => ({ uid, name, namespace: 'default' });
const tracingWith = (limits: { maxPods?: number; maxSpansPerPod?: number } = {}) =>
  createAgentTracing({ podTimelines: true, samplingRatePerMillion: 0 }, 'node-a', silent, limits);

test('children are filed under the pod their root names, parents before children, inside their time', async () => {
  const t = await tracingWith();
  await t.podRoot('pod.sync', pod('web'), { reason: 'CreatePodSandbox' }, async () => {
    await inSpan('RunPodSandbox', { 'runtime.handler': '' }, async () => {
      await sleep(2);
      await inSpan('cni.add bridge', {}, () => sleep(2));
    }, () => ({ 'k8s.sandbox.id': 'sb1' }));
    await inSpan('PullImage', { 'container.image.name': 'busybox' }, () => sleep(1));
  });
  const tl = t.timelines!.timelineOf('default', 'web')!;
  assert.equal(tl.node, 'node-a');
  assert.deepEqual(tl.pod, pod('web'));
  assert.deepEqual(tl.spans.map((s) => s.name), ['pod.sync', 'RunPodSandbox', 'cni.add bridge', 'PullImage']);
  const [root, sandbox, cni, pull] = tl.spans;
  assert.equal(root!.parentSpanId, undefined);
  assert.equal(sandbox!.parentSpanId, root!.spanId);
  assert.equal(cni!.parentSpanId, sandbox!.spanId);
  assert.equal(pull!.parentSpanId, root!.spanId);
  assert.ok(tl.spans.every((s) => s.traceId === root!.traceId && /^[0-9a-f]{32}$/.test(s.traceId) && /^[0-9a-f]{16}$/.test(s.spanId)));
  assert.equal(sandbox!.attributes['k8s.sandbox.id'], 'sb1');
  assert.equal(root!.attributes['k8s.pod.uid'], 'uid-web');
  for (const child of [sandbox!, cni!, pull!]) {
    const parent = tl.spans.find((s) => s.spanId === child.parentSpanId)!;
    assert.ok(child.durationMs > 0);
    assert.ok(child.startMs >= parent.startMs && child.startMs + child.durationMs <= parent.startMs + parent.durationMs + 0.001, `${child.name} inside ${parent.name}`);
  }
  assert.equal(tl.droppedSpans, 0);
});

test('a failed step is an error span with its message; the error still reaches the caller', async () => {
  const t = await tracingWith();
  await assert.rejects(t.podRoot('pod.sync', pod('bad'), {}, () => inSpan('RunPodSandbox', {}, async () => {
    throw new Error('injected: no sandbox');
  })), /no sandbox/);
  const tl = t.timelines!.timelineOf('default', 'bad')!;
  const sandbox = tl.spans.find((s) => s.name === 'RunPodSandbox')!;
  assert.equal(sandbox.status, 'error');
  assert.equal(sandbox.message, 'injected: no sandbox');
  assert.equal(tl.spans.find((s) => s.name === 'pod.sync')!.status, 'error');
});

test('at most maxSpansPerPod spans: the oldest go first and are counted', async () => {
  const t = await tracingWith({ maxSpansPerPod: 3 });
  for (let i = 0; i < 5; i++) await t.podRoot(`probe.${i}`, pod('chatty'), {}, async () => {});
  const tl = t.timelines!.timelineOf('default', 'chatty')!;
  assert.deepEqual(tl.spans.map((s) => s.name), ['probe.2', 'probe.3', 'probe.4']);
  assert.equal(tl.droppedSpans, 2);
});

test('at most maxPods pods: the one first seen longest ago goes; pods() is newest first', async () => {
  const t = await tracingWith({ maxPods: 2 });
  for (const name of ['a', 'b', 'c']) await t.podRoot('pod.watch', pod(name), {}, () => undefined);
  assert.deepEqual(t.timelines!.pods().map((p) => p.name), ['c', 'b']);
  assert.equal(t.timelines!.timelineOf('default', 'a'), undefined);
  // A pod seen again keeps its place: activity does not make it newer.
  await t.podRoot('pod.sync', pod('b'), {}, () => undefined);
  await t.podRoot('pod.watch', pod('d'), {}, () => undefined);
  assert.deepEqual(t.timelines!.pods().map((p) => p.name), ['d', 'c']);
});

test('a name lookup finds the newest pod of that name; other namespaces and unknown pods find none', async () => {
  const t = await tracingWith();
  await t.podRoot('pod.watch', pod('same', 'uid-old'), { n: 1 }, () => undefined);
  await t.podRoot('pod.watch', pod('same', 'uid-new'), { n: 2 }, () => undefined);
  assert.equal(t.timelines!.timelineOf('default', 'same')!.pod.uid, 'uid-new');
  assert.equal(t.timelines!.timelineOf('other', 'same'), undefined);
  assert.equal(t.timelines!.timelineOf('default', 'nobody'), undefined);
  assert.equal(t.timelines!.timelineOfUid('uid-old')!.spans[0]!.attributes.n, 1);
});

test('a span still open shows, marked open, with the time so far', async () => {
  const t = await tracingWith();
  let release!: () => void;
  const done = t.podRoot('pod.sync', pod('pulling'), {}, () => inSpan('PullImage', {}, () => new Promise<void>((r) => (release = r))));
  await sleep(5);
  const open = t.timelines!.timelineOf('default', 'pulling')!.spans;
  assert.deepEqual(open.map((s) => [s.name, s.open]), [['pod.sync', true], ['PullImage', true]]);
  assert.ok(open[1]!.durationMs >= 4);
  release();
  await done;
  assert.ok(t.timelines!.timelineOf('default', 'pulling')!.spans.every((s) => !s.open));
});

test('a long sync keeps its children however many short traces end meanwhile', async () => {
  const t = await createAgentTracing({ podTimelines: true, samplingRatePerMillion: 0 }, 'node-a', silent, { maxTraces: 3 });
  let release!: () => void;
  const long = t.podRoot('pod.sync', pod('slow'), {}, async () => {
    await new Promise<void>((r) => (release = r));
    await inSpan('StartContainer', {}, () => sleep(1));
  });
  for (let i = 0; i < 20; i++) await t.podRoot('probe.readiness', pod(`other-${i % 4}`), {}, async () => {});
  release();
  await long;
  assert.deepEqual(t.timelines!.timelineOf('default', 'slow')!.spans.map((s) => s.name), ['pod.sync', 'StartContainer']);
});

test('a span outside any pod root is not kept; inSpan without a root just runs', async () => {
  const t = await tracingWith();
  assert.equal(inSpan('RunPodSandbox', {}, () => 42), 42);
  assert.equal(traceHeaders(), undefined);
  await t.podRoot('pod.sync', { uid: '', name: 'x', namespace: 'default' }, {}, () => undefined);
  assert.deepEqual(t.timelines!.pods(), []);
});

test('inside a step the W3C traceparent names its trace and span', async () => {
  const t = await tracingWith();
  let headers: Record<string, string> | undefined;
  await t.podRoot('pod.sync', pod('prop'), {}, () => inSpan('CreateContainer', {}, async () => {
    headers = traceHeaders();
  }));
  const create = t.timelines!.timelineOf('default', 'prop')!.spans.find((s) => s.name === 'CreateContainer')!;
  assert.equal(headers?.traceparent, `00-${create.traceId}-${create.spanId}-00`);
});

test('with timelines and endpoint both off there is no SDK: noTracing', async () => {
  const t = await startTracing({ podTimelines: false, samplingRatePerMillion: 1_000_000 }, 'n', silent);
  assert.equal(t, noTracing);
  assert.equal(t.timelines, undefined);
});

test('orderSpans: at the same start a parent comes before its child', () => {
  const base = { traceId: 't'.repeat(32), durationMs: 1, status: 'ok' as const, attributes: {} };
  const spans = orderSpans([
    { ...base, spanId: 'c', parentSpanId: 'b', name: 'child', startMs: 10 },
    { ...base, spanId: 'b', parentSpanId: 'a', name: 'mid', startMs: 10 },
    { ...base, spanId: 'a', name: 'root', startMs: 10 },
    { ...base, spanId: 'z', name: 'earlier', startMs: 5 },
  ]);
  assert.deepEqual(spans.map((s) => s.name), ['earlier', 'root', 'mid', 'child']);
});
