// What every view of a timeline shares: each span's depth (from its parent chain), the time axis
// they are all placed on, and the attributes in the order a reader looks for them. Pure, so the
// HTML page, the trace-event JSON and the terminal waterfall cannot disagree about a span.
import type { PodTimeline, TimelineSpan, TimelineValue } from '../pod-timeline.ts';

export interface PlacedSpan {
  span: TimelineSpan;
  /** 0 for a root; a span whose parent was dropped from the buffer counts as a root. */
  depth: number;
  /** Milliseconds from the axis start. */
  offsetMs: number;
}

export interface TimelineLayout {
  rows: PlacedSpan[];
  /** The earliest start (epoch ms); 0 when there are no spans. */
  startMs: number;
  /** From the earliest start to the latest end, ms. */
  totalMs: number;
  errors: number;
}

/** Deeper than this is shown at this depth: a parent chain is short, a cycle in bad data is not. */
const maxDepth = 16;

export function layoutTimeline(timeline: PodTimeline): TimelineLayout {
  const spans = timeline.spans;
  const parentOf = new Map(spans.map((s) => [s.spanId, s.parentSpanId]));
  const depthOf = (span: TimelineSpan): number => {
    let depth = 0;
    let parent = span.parentSpanId;
    // Only parents still in the buffer count; the walk stops at maxDepth, which also ends a cycle.
    while (parent !== undefined && parentOf.has(parent) && depth < maxDepth) {
      depth++;
      parent = parentOf.get(parent);
    }
    return depth;
  };
  const startMs = spans.length ? Math.min(...spans.map((s) => s.startMs)) : 0;
  const endMs = spans.length ? Math.max(...spans.map((s) => s.startMs + Math.max(0, s.durationMs))) : 0;
  return {
    rows: spans.map((span) => ({ span, depth: depthOf(span), offsetMs: span.startMs - startMs })),
    startMs,
    totalMs: endMs - startMs,
    errors: spans.filter((s) => s.status === 'error').length,
  };
}

/** The attributes a reader looks for first come first; the rest follow in their own order. */
const firstKeys = [
  'reason', 'k8s.container.name', 'container', 'container.image.name', 'image', 'container.image.id', 'image.ref',
  'k8s.sandbox.id', 'sandbox.id', 'container.id', 'k8s.pod.ip', 'pod.ip', 'ip',
];

/** The pod's identity, which the header already shows: left out of the rows when it says the same. */
const identityKeys = (t: Pick<PodTimeline, 'pod' | 'node'>): Record<string, string> => ({
  'k8s.pod.uid': t.pod.uid, 'k8s.pod.name': t.pod.name, 'k8s.namespace.name': t.pod.namespace, 'k8s.node.name': t.node,
});

export function orderedAttributes(attributes: Record<string, TimelineValue>, timeline?: Pick<PodTimeline, 'pod' | 'node'>): Array<[string, TimelineValue]> {
  const same = timeline ? identityKeys(timeline) : {};
  const entries = Object.entries(attributes).filter(([k, v]) => same[k] === undefined || same[k] !== v);
  const rank = (k: string) => {
    const i = firstKeys.indexOf(k);
    return i === -1 ? firstKeys.length : i;
  };
  // Array.prototype.sort is stable: keys of equal rank keep the span's order.
  return entries.sort(([a], [b]) => rank(a) - rank(b));
}

/** A duration as people read it: 0.42 ms, 12.3 ms, 1532 ms (always ms, so rows compare at a glance). */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '? ms';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

/** The container a step is about, shown beside its name (CreateContainer talker): the row reads alone. */
const subjectKeys = ['k8s.container.name', 'container'];

export function spanSubject(attributes: Record<string, TimelineValue>): { key: string; value: string } | undefined {
  const key = subjectKeys.find((k) => typeof attributes[k] === 'string' && attributes[k] !== '');
  return key ? { key, value: String(attributes[key]) } : undefined;
}

/** A 64-hex ID or digest as `crictl` and `docker ps` show it: its first 12 digits. */
export function shortId(value: TimelineValue): string {
  const s = String(value);
  const m = /^(sha256:)?([0-9a-f]{32,})$/.exec(s);
  return m ? `${m[1] ?? ''}${m[2].slice(0, 12)}…` : s;
}

/** Shows an attribute's value whole, but never a wall of text (an image digest, a long message). */
export function shortValue(value: TimelineValue, max = 80): string {
  const s = String(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
