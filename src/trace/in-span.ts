// One helper for every traced step: inSpan(name, attrs, fn) runs fn as a child of the span that
// is active, ends the span when fn settles, and marks it failed with the error's message. The
// agent's tracer travels in the context (set by its root spans), so the runtime manager, CNI and
// volumes need no tracer handed down; with no root around (tracing off, or a call outside a
// pod's journey) fn simply runs, with no SDK work at all.
import { context, createContextKey, SpanStatusCode, trace, type Attributes, type Context, type HrTime, type Span, type Tracer } from '@opentelemetry/api';

/** Now on one clock for every span (the SDK's default start is Date.now(), whole milliseconds,
 * which puts a child up to 1 ms outside its parent): the process's time origin + performance.now(). */
export function nowHr(): HrTime {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6))];
}

export const TRACER_KEY = createContextKey('mini-kubelet tracer');

export type ResultAttributes<T> = (result: T) => Attributes;

export function inSpan<T>(name: string, attrs: Attributes, fn: () => T, resultAttrs?: ResultAttributes<Awaited<T>>): T {
  const parent = context.active();
  const tracer = parent.getValue(TRACER_KEY) as Tracer | undefined;
  if (!tracer) return fn();
  return runInSpan(tracer, tracer.startSpan(name, { attributes: attrs, startTime: nowHr() }, parent), parent, fn, resultAttrs);
}

/** Runs fn with span active and ends it as fn settles (a promise: when it does). */
export function runInSpan<T>(tracer: Tracer, span: Span, parent: Context, fn: () => T, resultAttrs?: ResultAttributes<Awaited<T>>): T {
  const ctx = trace.setSpan(parent.setValue(TRACER_KEY, tracer), span);
  const ok = (value: unknown) => {
    if (resultAttrs) {
      try {
        // Inside the span's context: a resultAttrs that marks the step failed marks this span.
        context.with(ctx, () => span.setAttributes(resultAttrs(value as Awaited<T>)));
      } catch { /* a fact that cannot be read must not fail the step */ }
    }
    span.end(nowHr());
  };
  const failed = (err: unknown) => {
    failSpan(span, err);
    span.end(nowHr());
  };
  let out: T;
  try {
    out = context.with(ctx, fn);
  } catch (err) {
    failed(err);
    throw err;
  }
  if (out instanceof Promise) {
    return out.then((v) => {
      ok(v);
      return v;
    }, (err) => {
      failed(err);
      throw err;
    }) as T;
  }
  ok(out);
  return out;
}

export function failSpan(span: Span, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  if (err instanceof Error) span.recordException(err);
}

/** Facts learned partway through a step, on the span that is active (the sync root: computePodActions' reasons). */
export function noteOnActiveSpan(attrs: Attributes): void {
  trace.getSpan(context.active())?.setAttributes(attrs);
}

/** A step that did not throw but failed (a sync step's failure, a refused admission): status error with the message. */
export function markActiveSpanFailed(message: string): void {
  trace.getSpan(context.active())?.setStatus({ code: SpanStatusCode.ERROR, message });
}

// A step whose work comes back to the agent on another path (RunPodSandbox → the runtime runs
// the CNI delegate → the delegate calls the agent's socket) leaves its context here, by pod uid,
// so the CNI spans nest under it.
const joinable = new Map<string, Context>();

export function exposeSpanFor<T>(key: string, fn: () => Promise<T>): Promise<T> {
  if (!key || !context.active().getValue(TRACER_KEY)) return fn();
  const ctx = context.active();
  joinable.set(key, ctx);
  return fn().finally(() => {
    if (joinable.get(key) === ctx) joinable.delete(key);
  });
}

export function joinSpanOf<T>(key: string, fn: () => T): T {
  const ctx = key ? joinable.get(key) : undefined;
  return ctx ? context.with(ctx, fn) : fn();
}
