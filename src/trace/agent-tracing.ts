// The agent's tracing, built once per agent: a BasicTracerProvider whose processors are the pod
// timeline buffer (--pod-timelines, default on) and, with --tracing-endpoint, a batch exporter to
// an OTLP collector over gRPC. The exporter's module is imported only then: it pulls in a gRPC
// stack and protobuf code the agent's RSS would otherwise carry for nothing. With neither, the
// agent gets noTracing (tracing.ts), and this module is never loaded.
import { context, propagation, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { nowHr, runInSpan } from './in-span.ts';
import { noTracing, type AgentTracing, type TracingSettings } from './tracing.ts';
import { PodTraceSampler } from './sampler.ts';
import { NODE_NAME, podAttributes, type PodIdentity } from './span-attributes.ts';
import { TimelineBuffer, type TimelineBufferLimits } from './timeline-buffer.ts';

// Process-wide, once: the context manager (agents in one process, as tests run them, share it;
// it holds nothing of theirs) and the W3C propagator the CRI client injects with.
let globalsInstalled = false;
function installGlobals(): void {
  if (globalsInstalled) return;
  globalsInstalled = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

const SHUTDOWN_WAIT_MS = 2000;

export async function createAgentTracing(settings: TracingSettings, nodeName: string, logger: Logger, limits?: Partial<TimelineBufferLimits>): Promise<AgentTracing> {
  if (!settings.endpoint && !settings.podTimelines) return noTracing;
  installGlobals();
  const buffer = settings.podTimelines ? new TimelineBuffer(nodeName, limits) : undefined;
  const processors: SpanProcessor[] = buffer ? [buffer] : [];
  if (settings.endpoint) processors.push(new BatchSpanProcessor(await otlpExporter(settings.endpoint, logger)));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'mini-kubelet', [NODE_NAME]: nodeName }),
    sampler: new PodTraceSampler(settings.endpoint ? settings.samplingRatePerMillion : 0, buffer !== undefined),
    spanProcessors: processors,
  });
  const tracer = provider.getTracer('mini-kubelet');
  logger.info({ endpoint: settings.endpoint, samplingRatePerMillion: settings.samplingRatePerMillion, podTimelines: settings.podTimelines }, 'tracing on');
  return {
    timelines: buffer,
    podRoot(name, pod, attrs, fn, resultAttrs) {
      const span = tracer.startSpan(name, { root: true, attributes: { ...podAttributes(pod), ...attrs }, startTime: nowHr() });
      return runInSpan(tracer, span, context.active(), fn, resultAttrs);
    },
    // The batch goes out first, but a collector that is gone must not hold the agent's stop.
    shutdown: () => Promise.race([
      provider.shutdown().catch((err: unknown) => logger.warn({ err }, 'tracing shutdown failed')),
      new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS).unref()),
    ]),
  };
}

async function otlpExporter(endpoint: string, logger: Logger) {
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
  const { credentials } = await import('@grpc/grpc-js');
  logger.debug({ endpoint }, 'spans go to the OTLP collector');
  return new OTLPTraceExporter({ url: `http://${endpoint}`, credentials: credentials.createInsecure() });
}
