// What a CRI call carries of the trace: the W3C traceparent (and tracestate) of the step that
// makes it, for the runtime to continue the trace. Nothing when no span is active, which is
// every call while tracing is off: the API's no-op answers without the SDK.
import { context, propagation, trace } from '@opentelemetry/api';

export function traceHeaders(): Record<string, string> | undefined {
  const ctx = context.active();
  if (!trace.getSpanContext(ctx)) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}
