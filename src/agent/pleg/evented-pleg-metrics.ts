// The evented PLEG's metrics, with the kubelet's names (pkg/kubelet/metrics): streams obtained,
// streams that failed, and each event's age on arrival. Registered on the agent's own registry;
// between relists it also sets the running pods and containers gauges that agent-metrics.ts made.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DEFAULT_BUCKETS } from '../metrics/agent-metrics.ts';
import type { RunningCounts } from './running-tally.ts';

export interface EventedPlegMetrics {
  streamOpened(): void;
  streamFailed(): void;
  /** An event arrived this long after the runtime stamped it. */
  eventReceived(ageSeconds: number): void;
  /** What runs now, after an event (kubelet_running_pods, kubelet_running_containers). */
  running(counts: RunningCounts): void;
}

export function eventedPlegMetrics(registry: Registry): EventedPlegMetrics {
  const registers = [registry];
  const success = new Counter({
    name: 'kubelet_evented_pleg_connection_success_count', help: 'GetContainerEvents streams the runtime opened.', registers,
  });
  const errors = new Counter({
    name: 'kubelet_evented_pleg_connection_error_count', help: 'GetContainerEvents streams that failed to open (UNIMPLEMENTED included) or broke later.', registers,
  });
  const latency = new Histogram({
    name: 'kubelet_evented_pleg_connection_latency_seconds', help: 'Seconds from the runtime stamping a container event to the agent receiving it.',
    buckets: DEFAULT_BUCKETS, registers,
  });
  const runningPods = registry.getSingleMetric('kubelet_running_pods');
  const runningContainers = registry.getSingleMetric('kubelet_running_containers');
  return {
    running(counts) {
      if (runningPods instanceof Gauge) runningPods.set(counts.pods);
      if (runningContainers instanceof Gauge) for (const [state, n] of Object.entries(counts.containers)) runningContainers.set({ container_state: state }, n);
    },
    streamOpened: () => success.inc(),
    streamFailed: () => errors.inc(),
    eventReceived: (age) => latency.observe(Math.max(0, age)),
  };
}
