// The three views of a pod's timeline (src/trace/views/) over hand-made timelines: the HTML page
// names every span with its duration and escapes what users wrote, the trace-event JSON has one
// X event per span in microseconds and reads back, the terminal waterfall lines up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostileTimeline, twoContainersTimeline } from '../helpers/timeline-fixture.ts';
import { escapeHtml } from '../../src/trace/views/escape.ts';
import { formatMs, layoutTimeline } from '../../src/trace/views/layout.ts';
import { podIndexJson, renderPodIndexHtml } from '../../src/trace/views/pod-index.ts';
import { renderTimelineHtml } from '../../src/trace/views/timeline-html.ts';
import { renderTimelineText } from '../../src/trace/views/timeline-text.ts';
import { timelineFromTraceEvents, timelineTraceEvents, type TraceEvent } from '../../src/trace/views/trace-events.ts';
import type { PodTimeline } from '../../src/trace/pod-timeline.ts';

test('layout: depth from the parent chain, offsets and total on one axis, a missing parent is a root', () => {
  const t = twoContainersTimeline();
  const layout = layoutTimeline(t);
  assert.deepEqual(layout.rows.map((r) => [r.span.name, r.depth]).slice(0, 4), [['pod.sync', 0], ['RunPodSandbox', 1], ['cni.add bridge', 2], ['PullImage', 1]]);
  assert.equal(layout.startMs, t.spans[0].startMs);
  assert.equal(layout.totalMs, 1250.5);
  assert.equal(layout.rows[3].offsetMs, 315);
  assert.equal(layout.errors, 1);
  const orphan: PodTimeline = { ...t, spans: [{ ...t.spans[2], parentSpanId: 'ffffffffffffffff' }] };
  assert.equal(layoutTimeline(orphan).rows[0].depth, 0);
  // A cycle in bad data ends at the depth cap, it does not hang.
  const a = { ...t.spans[0], spanId: 'a', parentSpanId: 'b' };
  const b = { ...t.spans[1], spanId: 'b', parentSpanId: 'a' };
  assert.ok(layoutTimeline({ ...t, spans: [a, b] }).rows[0].depth <= 16);
  assert.deepEqual(layoutTimeline({ ...t, spans: [] }), { rows: [], startMs: 0, totalMs: 0, errors: 0 });
});

test('formatMs: always ms, precision by size', () => {
  assert.deepEqual([0.5, 42.75, 310.25, 1250.5].map(formatMs), ['0.50 ms', '42.8 ms', '310 ms', '1251 ms']);
});

test('HTML: a whole page with every span\'s name and duration, bars on the axis, errors in red', () => {
  const t = twoContainersTimeline();
  const page = renderTimelineHtml(t);
  assert.match(page, /^<!doctype html>/);
  assert.match(page, /<h1>Pod default\/two-containers<\/h1>/);
  assert.match(page, /uid <b>uid-2c<\/b>/);
  assert.match(page, /node <b>node-a<\/b>/);
  assert.match(page, /total <b>1251 ms<\/b>/);
  for (const s of t.spans) {
    const row = page.split('\n').find((l) => l.includes(`id="span-${s.spanId}"`));
    assert.ok(row, s.name);
    assert.ok(row.includes(`<div class="name">${s.name}`), s.name);
    assert.ok(row.includes(`<td class="dur">${formatMs(s.durationMs)}`), `${s.name} ${formatMs(s.durationMs)}`);
  }
  // Placed and sized on the shared axis: PullImage starts at 315 of 1250.5 ms and lasts 600.
  const pull = page.split('\n').find((l) => l.includes('PullImage'))!;
  assert.match(pull, /left:25\.19%;width:47\.981%/);
  assert.match(pull, /padding-left:22px/);
  assert.match(pull, /<b>image<\/b> busybox:1\.36/);
  const failed = page.split('\n').find((l) => l.includes('status.patch'))!;
  assert.match(failed, /<tr class="depth1 error"/);
  assert.match(failed, /<div class="err">error: Put &quot;https:\/\/api&quot;: connection refused<\/div>/);
  // Self-contained: no script, no external resource.
  assert.doesNotMatch(page, /<script|<link|src=|@import|url\(/i);
});

test('HTML: every user string is escaped, the <script> of an annotation-like attribute included', () => {
  const page = renderTimelineHtml(hostileTimeline());
  assert.doesNotMatch(page, /<script>|<img|<b>boom/);
  assert.match(page, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  assert.match(page, /evil&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(page, /<title>default\/&lt;script&gt;pod&lt;\/script&gt; timeline<\/title>/);
  assert.match(page, /uid <b>u&quot;&lt;&gt;<\/b>/);
  assert.match(page, /error: &lt;b&gt;boom&lt;\/b&gt; &amp; more/);
  assert.match(page, /3 older span\(s\) were dropped/);
  assert.equal(escapeHtml(`'"<>&`), '&#39;&quot;&lt;&gt;&amp;');
  const index = renderPodIndexHtml('n<', [hostileTimeline().pod]);
  assert.doesNotMatch(index, /<script>/);
  assert.match(index, /href="pods\/default\/%3Cscript%3Epod%3C%2Fscript%3E\/timeline"/);
});

test('trace events: valid JSON, one X event per span with µs ts/dur, attributes and IDs in args; reads back', () => {
  const t = twoContainersTimeline();
  const doc = JSON.parse(JSON.stringify(timelineTraceEvents(t)));
  const xs: TraceEvent[] = doc.traceEvents.filter((e: TraceEvent) => e.ph === 'X');
  assert.equal(xs.length, t.spans.length);
  for (const [i, s] of t.spans.entries()) {
    assert.equal(xs[i].name, s.name);
    assert.equal(xs[i].ts, s.startMs * 1000);
    assert.equal(xs[i].dur, s.durationMs * 1000);
    assert.equal(xs[i].args['span.id'], s.spanId);
    assert.equal(xs[i].args['trace.id'], s.traceId);
    assert.equal(xs[i].args['parent.span.id'], s.parentSpanId);
    for (const [k, v] of Object.entries(s.attributes)) assert.equal(xs[i].args[k], v);
  }
  assert.equal(xs[1].dur, 310250);
  const failed = xs.find((e) => e.name === 'status.patch')!;
  assert.equal(failed.args.status, 'error');
  assert.equal(failed.args.message, 'Put "https://api": connection refused');
  assert.ok(doc.traceEvents.some((e: TraceEvent) => e.ph === 'M' && e.name === 'process_name'));
  assert.equal(doc.otherData.uid, 'uid-2c');
  assert.deepEqual(timelineFromTraceEvents(doc), t);
  assert.throws(() => timelineFromTraceEvents({ nope: 1 }), /not a pod timeline/);
});

test('terminal: fixed width, one line per span with its bar and duration, errors marked with their message', () => {
  const t = twoContainersTimeline();
  const out = renderTimelineText(t, { width: 100 });
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[0], 'pod default/two-containers  uid uid-2c  node node-a');
  assert.equal(lines[1], 'total 1251 ms, 9 span(s), 1 error(s)');
  const spanLines = lines.filter((l) => / \|.*\| /.test(l)).slice(1);
  assert.equal(spanLines.length, t.spans.length);
  for (const l of spanLines) assert.equal(l.length, 100, JSON.stringify(l));
  assert.match(spanLines[0], /^  pod\.sync +\|=+\| +1251 ms$/);
  assert.match(spanLines[1], /^    RunPodSandbox +\|=+ +\| +310 ms$/);
  assert.match(spanLines[2], /^      cni\.add bridge +\| =+ +\| +120 ms$/);
  const patch = lines.findIndex((l) => l.includes('status.patch'));
  assert.match(lines[patch], /^! +status\.patch +\| +! \| +0\.50 ms$/);
  assert.equal(lines[patch + 1].trim(), 'error: Put "https://api": connection refused');
  assert.ok(lines.includes('      image=busybox:1.36 image.ref=sha256:abc'));
  const bare = renderTimelineText(t, { attributes: false, width: 80 }).trimEnd().split('\n');
  assert.equal(bare.length, 3 + t.spans.length + 1);
  assert.ok(bare.slice(3).filter((l) => !l.includes('error:')).every((l) => l.length === 80));
  assert.match(renderTimelineText({ ...t, spans: [] }), /\(no spans recorded\)/);
});

test('pod index JSON names each pod and its timeline path', () => {
  assert.deepEqual(podIndexJson('node-a', [{ namespace: 'default', name: 'web', uid: 'u' }]), {
    node: 'node-a', pods: [{ namespace: 'default', name: 'web', uid: 'u', timeline: '/debug/pods/default/web/timeline' }],
  });
});

test('the pod\'s identity is left out of the rows when the header says the same; JSON keeps it', () => {
  const t = twoContainersTimeline();
  t.spans[0].attributes = { ...t.spans[0].attributes, 'k8s.pod.name': 'two-containers', 'k8s.pod.uid': 'uid-2c', 'k8s.node.name': 'other' };
  const page = renderTimelineHtml(t);
  assert.doesNotMatch(page, /<b>k8s\.pod\.name<\/b>|<b>k8s\.pod\.uid<\/b>/);
  assert.match(page, /<b>k8s\.node\.name<\/b> other/);
  assert.doesNotMatch(renderTimelineText(t), /k8s\.pod\.uid/);
  assert.equal(timelineTraceEvents(t).traceEvents.find((e) => e.ph === 'X')!.args['k8s.pod.uid'], 'uid-2c');
});

test('a step names its container beside it, and long IDs are shortened (whole in the HTML tooltip)', () => {
  const t = twoContainersTimeline();
  const id = 'e1a010b9e4757974ea458e25f70d150e96fb6f61f8a6f42f06f09071c3fbe0fb';
  t.spans[4].attributes = { 'k8s.container.name': 'talker', 'container.id': id };
  const page = renderTimelineHtml(t);
  const row = page.split('\n').find((l) => l.includes(`id="span-${t.spans[4].spanId}"`))!;
  assert.match(row, /<div class="name">CreateContainer <span class="sub">talker<\/span><\/div>/);
  assert.match(row, new RegExp(`<span title="${id}"><b>container.id</b> e1a010b9e475…</span>`));
  assert.doesNotMatch(row, /<b>k8s\.container\.name<\/b>/);
  const text = renderTimelineText(t).split('\n');
  const at = text.findIndex((l) => l.includes('CreateContainer talker'));
  assert.ok(at > 0);
  assert.equal(text[at + 1].trim(), 'container.id=e1a010b9e475…');
});
