// A pod's timeline in the Chrome Trace Event format, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open: one complete ("X") event per span, ts and dur in microseconds since
// the epoch, the span's attributes, IDs, status and message in args. Each trace (one per sync,
// watch event or kill) gets a track of its own, so the nesting Perfetto draws from time
// containment stays within one trace; metadata ("M") events name the process and the tracks.
import type { PodTimeline } from '../pod-timeline.ts';
import { layoutTimeline } from './layout.ts';

export interface TraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args: Record<string, unknown>;
}

export interface TraceEventDocument {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string | number>;
}

/** ms → µs, fractions kept as far as a double allows (epoch µs leave about 0.25 µs). Whole ms
 * and the fraction apart: ms * 1e6 would pass 2^53 and lose the whole microseconds. */
function micros(ms: number): number {
  const whole = Math.floor(ms);
  return whole * 1000 + Math.round((ms - whole) * 1e6) / 1e3;
}

export function timelineTraceEvents(timeline: PodTimeline): TraceEventDocument {
  const { pod, node } = timeline;
  const layout = layoutTimeline(timeline);
  const pid = 1;
  const tracks = new Map<string, number>();
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid, tid: 0, args: { name: `pod ${pod.namespace}/${pod.name} on ${node}` } },
  ];
  const spans: TraceEvent[] = [];
  for (const { span, depth } of layout.rows) {
    let tid = tracks.get(span.traceId);
    if (tid === undefined) {
      tid = tracks.size + 1;
      tracks.set(span.traceId, tid);
      // The root's name (pod.sync, pod.kill, ...) names the track; spans come oldest first, parents first.
      events.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: `${depth === 0 ? span.name : 'trace'} ${span.traceId.slice(0, 8)}` } });
    }
    spans.push({
      name: span.name, cat: span.status === 'error' ? 'pod,error' : 'pod', ph: 'X', pid, tid,
      ts: micros(span.startMs), dur: micros(Math.max(0, span.durationMs)),
      args: {
        ...span.attributes,
        'span.id': span.spanId,
        ...(span.parentSpanId ? { 'parent.span.id': span.parentSpanId } : {}),
        'trace.id': span.traceId,
        status: span.status,
        ...(span.message !== undefined ? { message: span.message } : {}),
        ...(span.open ? { open: true } : {}),
      },
    });
  }
  return {
    traceEvents: [...events, ...spans],
    displayTimeUnit: 'ms',
    otherData: { namespace: pod.namespace, pod: pod.name, uid: pod.uid, node, droppedSpans: timeline.droppedSpans, totalMs: layout.totalMs },
  };
}

const spanKeys = new Set(['span.id', 'parent.span.id', 'trace.id', 'status', 'message', 'open']);

/**
 * The inverse, for `mini-kubelet trace`: the node sends the trace-event JSON (one format on the
 * wire for Perfetto and the CLI alike), and the terminal view reads a PodTimeline again.
 * Throws on a document that is not one of ours.
 */
export function timelineFromTraceEvents(doc: unknown): PodTimeline {
  const d = doc as Partial<TraceEventDocument> | null;
  if (!d || typeof d !== 'object' || !Array.isArray(d.traceEvents) || !d.otherData) throw new Error('not a pod timeline in the trace event format');
  const o = d.otherData;
  const spans = d.traceEvents.filter((ev) => ev && ev.ph === 'X').map((ev) => {
    const args = ev.args ?? {};
    const attributes = Object.fromEntries(Object.entries(args).filter(([k, v]) => !spanKeys.has(k) && ['string', 'number', 'boolean'].includes(typeof v))) as Record<string, string | number | boolean>;
    return {
      spanId: String(args['span.id'] ?? ''),
      ...(args['parent.span.id'] !== undefined ? { parentSpanId: String(args['parent.span.id']) } : {}),
      traceId: String(args['trace.id'] ?? ''),
      name: String(ev.name),
      startMs: Number(ev.ts) / 1000,
      durationMs: Number(ev.dur ?? 0) / 1000,
      status: args.status === 'error' ? 'error' as const : 'ok' as const,
      ...(args.message !== undefined ? { message: String(args.message) } : {}),
      attributes,
      ...(args.open === true ? { open: true } : {}),
    };
  });
  return {
    pod: { namespace: String(o.namespace ?? ''), name: String(o.pod ?? ''), uid: String(o.uid ?? '') },
    node: String(o.node ?? ''),
    spans,
    droppedSpans: Number(o.droppedSpans ?? 0),
  };
}
