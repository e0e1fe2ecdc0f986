// What the agent's components see of tracing: the settings, the AgentTracing they open root spans
// with, and noTracing. No SDK here: start-agent imports agent-tracing.ts (the SDK) only when
// timelines or an endpoint ask for it, so with both off the SDK is never loaded.
import type { Attributes } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { ResultAttributes } from './in-span.ts';
import type { PodTimelines } from './pod-timeline.ts';
import type { PodIdentity } from './span-attributes.ts';
import type { TimelineBuffer } from './timeline-buffer.ts';

export interface TracingSettings {
  /** host:port of an OTLP/gRPC collector; absent: no export. */
  endpoint?: string;
  /** Of the traces, how many per million are exported (1,000,000: all). */
  samplingRatePerMillion: number;
  /** Keep recent pods' spans for the node API's /debug/pods views. */
  podTimelines: boolean;
}

export interface AgentTracing {
  /** The bounded buffer the views read; undefined when --pod-timelines=false. */
  readonly timelines: (PodTimelines & { timelineOfUid: TimelineBuffer['timelineOfUid'] }) | undefined;
  /** A root span of one pod's journey (a sync, an admission, a watch event, a kill, a status
   * patch, a probe): every inSpan under fn is its child, and the buffer files them under the pod. */
  podRoot<T>(name: string, pod: PodIdentity, attrs: Attributes, fn: () => T, resultAttrs?: ResultAttributes<Awaited<T>>): T;
  /** Ends the export: what the batch holds is sent first. */
  shutdown(): Promise<void>;
}

export const noTracing: AgentTracing = {
  timelines: undefined,
  podRoot: (_name, _pod, _attrs, fn) => fn(),
  shutdown: async () => {},
};

/** Loads the SDK only when something will use it. */
export async function startTracing(settings: TracingSettings, nodeName: string, logger: Logger): Promise<AgentTracing> {
  if (!settings.endpoint && !settings.podTimelines) return noTracing;
  const { createAgentTracing } = await import('./agent-tracing.ts');
  return createAgentTracing(settings, nodeName, logger);
}
