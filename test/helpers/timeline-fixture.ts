// A hand-made pod timeline, as the agent's buffer would hold one for a two-container pod: a
// sync with its sandbox, a pull, two creates and starts, a failed status patch; and a pod whose
// name and attributes carry markup, for the escaping tests.
import type { PodTimeline, PodTimelines, TimelineSpan } from '../../src/trace/pod-timeline.ts';

const t0 = Date.UTC(2026, 0, 2, 3, 4, 5, 0);
const trace = 'a'.repeat(32);
let n = 0;
function span(name: string, startOffsetMs: number, durationMs: number, parent: string | undefined, attributes: TimelineSpan['attributes'] = {}, extra: Partial<TimelineSpan> = {}): TimelineSpan {
  n++;
  return { spanId: n.toString(16).padStart(16, '0'), ...(parent ? { parentSpanId: parent } : {}), traceId: trace, name, startMs: t0 + startOffsetMs, durationMs, status: 'ok', attributes, ...extra };
}

export function twoContainersTimeline(): PodTimeline {
  n = 0;
  const sync = span('pod.sync', 0, 1250.5, undefined, { reason: 'CreatePodSandbox' });
  const sandbox = span('RunPodSandbox', 2, 310.25, sync.spanId, { 'sandbox.id': 'f00dfeed1234', 'pod.ip': '10.88.0.7' });
  const cni = span('cni.add bridge', 40, 120, sandbox.spanId, { ip: '10.88.0.7' });
  const pull = span('PullImage', 315, 600, sync.spanId, { image: 'busybox:1.36', 'image.ref': 'sha256:abc' });
  const spans = [sync, sandbox, cni, pull];
  let at = 920;
  for (const c of ['talker', 'sleeper']) {
    spans.push(span('CreateContainer', at, 80.5, sync.spanId, { container: c, image: 'busybox:1.36', 'container.id': `${c}-id` }));
    spans.push(span('StartContainer', at + 81, 42.75, sync.spanId, { container: c, 'container.id': `${c}-id` }));
    at += 125;
  }
  spans.push(span('status.patch', 1200, 0.5, sync.spanId, {}, { status: 'error', message: 'Put "https://api": connection refused' }));
  return { pod: { namespace: 'default', name: 'two-containers', uid: 'uid-2c' }, node: 'node-a', spans, droppedSpans: 0 };
}

export function hostileTimeline(): PodTimeline {
  n = 0;
  const root = span('pod.sync', 0, 10, undefined, { 'annotation.note': '<script>alert("x")</script>', image: 'evil"><img src=x onerror=alert(1)>' }, { status: 'error', message: '<b>boom</b> & more' });
  return { pod: { namespace: 'default', name: '<script>pod</script>', uid: 'u"<>' }, node: 'n&<', spans: [root], droppedSpans: 3 };
}

/** A PodTimelines over fixed timelines (newest first as given). */
export function fixedTimelines(...timelines: PodTimeline[]): PodTimelines {
  return {
    timelineOf: (ns, name) => timelines.find((t) => t.pod.namespace === ns && t.pod.name === name),
    pods: () => timelines.map((t) => t.pod),
  };
}
