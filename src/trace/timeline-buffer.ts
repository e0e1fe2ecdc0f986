// The agent's recent pod timelines: a span processor that files every ended span under the pod
// its trace's root names (k8s.pod.uid on the root; children inherit it through the trace id) and
// keeps the newest ones in bounds, so a node with pods that crash-loop for days holds a fixed
// amount. Spans still open are shown too (a pull in progress), with the time so far.
import { hrTimeToMilliseconds, hrTimeDuration } from '@opentelemetry/core';
import { SpanStatusCode, type Context, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { PodTimeline, PodTimelines, TimelineSpan, TimelineValue } from './pod-timeline.ts';
import { POD_NAME, POD_NAMESPACE, POD_UID, type PodIdentity } from './span-attributes.ts';

export interface TimelineBufferLimits {
  /** Pods kept; the one first seen longest ago goes first. */
  maxPods: number;
  /** Ended spans kept per pod; the oldest go first and are counted in droppedSpans. */
  maxSpansPerPod: number;
  /** Roots open at once whose children are filed (a bound on a leak: roots end when their step does). */
  maxTraces: number;
}

export const defaultTimelineLimits: TimelineBufferLimits = { maxPods: 200, maxSpansPerPod: 500, maxTraces: 4000 };

interface PodEntry {
  pod: PodIdentity;
  /** Ended spans in the order they ended; a ring would save little at 500. */
  spans: TimelineSpan[];
  open: Map<string, Span>;
  droppedSpans: number;
}

export class TimelineBuffer implements SpanProcessor, PodTimelines {
  /** By uid, in the order first seen (Map keeps insertion order): the first is the oldest. */
  private readonly podsByUid = new Map<string, PodEntry>();
  /** The pod of each trace whose root is open: children that start under it are filed there. */
  private readonly traceToUid = new Map<string, string>();
  /** The pod of each filed span still open, so it is found at its end whatever became of its trace. */
  private readonly openSpanUid = new Map<string, string>();
  private readonly limits: TimelineBufferLimits;

  constructor(private readonly nodeName: string, limits: Partial<TimelineBufferLimits> = {}) {
    this.limits = { ...defaultTimelineLimits, ...limits };
  }

  onStart(span: Span, _parent: Context): void {
    const traceId = span.spanContext().traceId;
    if (!span.parentSpanContext) {
      const uid = span.attributes[POD_UID];
      if (typeof uid !== 'string' || !uid) return;
      this.remember(traceId, uid);
      this.entryFor(uid, {
        uid, name: String(span.attributes[POD_NAME] ?? ''), namespace: String(span.attributes[POD_NAMESPACE] ?? ''),
      });
    }
    const uid = this.traceToUid.get(traceId);
    const entry = uid === undefined ? undefined : this.podsByUid.get(uid);
    if (!entry) return;
    entry.open.set(span.spanContext().spanId, span);
    this.openSpanUid.set(span.spanContext().spanId, uid!);
  }

  onEnd(span: ReadableSpan): void {
    const spanId = span.spanContext().spanId;
    const uid = this.openSpanUid.get(spanId);
    if (uid === undefined) return;
    this.openSpanUid.delete(spanId);
    if (!span.parentSpanContext) this.traceToUid.delete(span.spanContext().traceId);
    const entry = this.podsByUid.get(uid);
    if (!entry) return;
    entry.open.delete(spanId);
    entry.spans.push(toTimelineSpan(span, false));
    if (entry.spans.length > this.limits.maxSpansPerPod) {
      const over = entry.spans.length - this.limits.maxSpansPerPod;
      entry.spans.splice(0, over);
      entry.droppedSpans += over;
    }
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}

  timelineOf(namespace: string, name: string): PodTimeline | undefined {
    let found: PodEntry | undefined;
    // The newest pod of that name: the last one inserted.
    for (const e of this.podsByUid.values()) if (e.pod.namespace === namespace && e.pod.name === name) found = e;
    return found && this.timelineFrom(found);
  }

  pods(): Array<PodTimeline['pod']> {
    return [...this.podsByUid.values()].reverse().map((e) => ({ ...e.pod }));
  }

  /** The timeline by uid (tests, and views that know the uid). */
  timelineOfUid(uid: string): PodTimeline | undefined {
    const e = this.podsByUid.get(uid);
    return e && this.timelineFrom(e);
  }

  private timelineFrom(e: PodEntry): PodTimeline {
    const spans = [...e.spans, ...[...e.open.values()].map((s) => toTimelineSpan(s, true))];
    return { pod: { ...e.pod }, node: this.nodeName, spans: orderSpans(spans), droppedSpans: e.droppedSpans };
  }

  private remember(traceId: string, uid: string): void {
    this.traceToUid.set(traceId, uid);
    if (this.traceToUid.size > this.limits.maxTraces) this.traceToUid.delete(this.traceToUid.keys().next().value as string);
  }

  private entryFor(uid: string, pod: PodIdentity): PodEntry {
    let e = this.podsByUid.get(uid);
    if (e) {
      // A root may know the name better than the first one did (a kill of a pod seen only at relist).
      if (pod.name) e.pod = pod;
      return e;
    }
    e = { pod, spans: [], open: new Map(), droppedSpans: 0 };
    this.podsByUid.set(uid, e);
    if (this.podsByUid.size > this.limits.maxPods) {
      const oldest = this.podsByUid.keys().next().value as string;
      for (const spanId of this.podsByUid.get(oldest)!.open.keys()) this.openSpanUid.delete(spanId);
      this.podsByUid.delete(oldest);
    }
    return e;
  }
}

function toTimelineSpan(span: ReadableSpan, open: boolean): TimelineSpan {
  const ctx = span.spanContext();
  const startMs = hrTimeToMilliseconds(span.startTime);
  const durationMs = open ? Math.max(0, performance.timeOrigin + performance.now() - startMs) : hrTimeToMilliseconds(hrTimeDuration(span.startTime, span.endTime as HrTime));
  const attributes: Record<string, TimelineValue> = {};
  for (const [k, v] of Object.entries(span.attributes)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') attributes[k] = v;
    else if (Array.isArray(v)) attributes[k] = v.join(',');
  }
  const failed = span.status.code === SpanStatusCode.ERROR;
  return {
    spanId: ctx.spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    traceId: ctx.traceId,
    name: span.name,
    startMs,
    durationMs,
    status: failed ? 'error' : 'ok',
    ...(failed && span.status.message ? { message: span.status.message } : {}),
    attributes,
    ...(open ? { open: true } : {}),
  };
}

/** Oldest first; at the same start, a parent before its children (by depth in the pod's spans). */
export function orderSpans(spans: TimelineSpan[]): TimelineSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const depth = (s: TimelineSpan): number => {
    let d = 0;
    for (let p = s.parentSpanId; p !== undefined && d < 64; p = byId.get(p)?.parentSpanId) d++;
    return d;
  };
  return spans.map((s) => ({ s, d: depth(s) })).sort((a, b) => a.s.startMs - b.s.startMs || a.d - b.d).map((x) => x.s);
}
