// The agent's metrics, served on the node API's /metrics in Prometheus text format. Names,
// types, labels and buckets are the kubelet's (pkg/kubelet/metrics) where the meaning is the
// same; mini_kubelet_* is ours. One Registry per agent (tests run several agents in one process),
// never prom-client's global one.
//
// Each room reports through a narrow interface of its own (the CRI client's CriCallMetrics,
// the executor's ExecutorMetrics, PlegMetrics, PodWorkerMetrics) and this file implements them
// all. Labelled series are looked up once (per CRI method, per step name, per operation type)
// and kept, so a hot-path observation is prom-client's own work and nothing more.
import { Counter, Gauge, Histogram, Registry, exponentialBuckets } from 'prom-client';
import type { CriCallMetrics, CriCallRecorder } from '../../cri/client.ts';
import type { ContainerType, ExecutorMetrics } from '../../cri/runtime-manager/executor-deps.ts';
import type { ObservedContainerState, RuntimePodStatus } from '../../cri/runtime-manager/pod-runtime.ts';
import type { PodWorkerStep } from '../workers/next-pod-worker-step.ts';

/** The kubelet's metrics.DefBuckets (prometheus' defaults). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** kubelet_runtime_operations_duration_seconds: ExponentialBuckets(.005, 2.5, 14). */
export const RUNTIME_OPERATION_BUCKETS = exponentialBuckets(0.005, 2.5, 14);
/** kubelet_pod_start_duration_seconds: the kubelet's podStartupDurationBuckets. */
export const POD_START_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

/** The kubelet's SyncPodType names, the operation_type of kubelet_pod_worker_duration_seconds. */
export type PodWorkerOperation = 'create' | 'update' | 'sync' | 'kill';

export interface PlegMetrics {
  /** One relist: how long it took, how long since the previous one began (none for the first),
   * and what it found (undefined when it failed: the gauges keep their values). */
  relisted(durationSeconds: number, intervalSeconds: number | undefined, pods: readonly RuntimePodStatus[] | undefined): void;
}

export interface PodWorkerMetrics {
  /** One podWorkerSync that did something, by the kubelet's operation type. */
  workerDone(operation: PodWorkerOperation, seconds: number): void;
  /** A pod first shown Running, this long after the agent first saw it. */
  podStarted(secondsSinceFirstSeen: number): void;
}

export interface AgentMetrics extends CriCallMetrics, ExecutorMetrics, PlegMetrics, PodWorkerMetrics {
  readonly registry: Registry;
  /** The exposition: Prometheus text format 0.0.4. */
  render(): Promise<{ contentType: string; body: string }>;
}

const CONTAINER_STATES: readonly ObservedContainerState[] = ['created', 'running', 'exited', 'unknown'];

/** What kubelet_running_pods and kubelet_running_containers show after a relist, as the kubelet's
 * PLEG counts them: pods with a ready sandbox, and container instances by state. Every state is
 * reported (0 when none), so a state that empties shows 0 rather than its last count. */
export function runningCounts(pods: readonly RuntimePodStatus[]): { pods: number; containers: Record<ObservedContainerState, number> } {
  const containers: Record<ObservedContainerState, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
  let running = 0;
  for (const p of pods) {
    for (const c of p.containers) containers[c.state in containers ? c.state : 'unknown']++;
    if (p.sandboxes.some((s) => s.state === 'ready')) running++;
  }
  return { pods: running, containers };
}

/** Whether this status is the pod's start, as the kubelet observes kubelet_pod_start_duration_seconds:
 * the phase goes to Running from Pending (or from no status of ours yet). */
export function isPodStart(previousPhase: string | undefined, nextPhase: string | undefined): boolean {
  return nextPhase === 'Running' && (previousPhase === undefined || previousPhase === 'Pending');
}

/** The operation type of one podWorkerSync, folded over the steps it took (at most admit → sync →
 * stopFinished): a pod's first sync (admission) is create, anything that stops it is kill, a sync
 * after a change to what the pod asks for is update, any other sync is sync. Idle alone is nothing. */
export function podWorkerOperation(sofar: PodWorkerOperation | undefined, step: PodWorkerStep['kind'], updated: boolean): PodWorkerOperation | undefined {
  switch (step) {
    case 'admit': return 'create';
    case 'cleanUp': case 'terminate': case 'stopFinished': case 'failDeadline': return sofar === 'create' ? sofar : 'kill';
    case 'sync': return sofar ?? (updated ? 'update' : 'sync');
    case 'idle': return sofar;
  }
}

export function createAgentMetrics(nodeName: string): AgentMetrics {
  const registry = new Registry();
  const registers = [registry];

  const nodeNameGauge = new Gauge({ name: 'kubelet_node_name', help: "The node's name. The count is always 1.", labelNames: ['node'], registers });
  nodeNameGauge.set({ node: nodeName }, 1);

  const runningPods = new Gauge({ name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox', registers });
  const runningContainers = new Gauge({ name: 'kubelet_running_containers', help: 'Number of containers currently running', labelNames: ['container_state'], registers });
  const startedPods = new Counter({ name: 'kubelet_started_pods_total', help: 'Cumulative number of pods started', registers });
  const startedPodsErrors = new Counter({ name: 'kubelet_started_pods_errors_total', help: 'Cumulative number of errors when starting pods', registers });
  const startedContainers = new Counter({ name: 'kubelet_started_containers_total', help: 'Cumulative number of containers started', labelNames: ['container_type'], registers });
  const startedContainersErrors = new Counter({
    name: 'kubelet_started_containers_errors_total', help: 'Cumulative number of errors when starting containers', labelNames: ['container_type', 'code'], registers,
  });
  const podStart = new Histogram({
    name: 'kubelet_pod_start_duration_seconds', help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
    buckets: POD_START_BUCKETS, registers,
  });
  const podWorker = new Histogram({
    name: 'kubelet_pod_worker_duration_seconds', help: 'Duration in seconds to sync a single pod. Broken down by operation type: create, update, sync or kill',
    labelNames: ['operation_type'], buckets: DEFAULT_BUCKETS, registers,
  });
  const runtimeOperations = new Counter({
    name: 'kubelet_runtime_operations_total', help: 'Cumulative number of runtime operations by operation type.', labelNames: ['operation_type'], registers,
  });
  const runtimeDuration = new Histogram({
    name: 'kubelet_runtime_operations_duration_seconds', help: 'Duration in seconds of runtime operations. Broken down by operation type.',
    labelNames: ['operation_type'], buckets: RUNTIME_OPERATION_BUCKETS, registers,
  });
  const runtimeErrors = new Counter({
    name: 'kubelet_runtime_operations_errors_total', help: 'Cumulative number of runtime operation errors by operation type.', labelNames: ['operation_type'], registers,
  });
  const plegRelist = new Histogram({ name: 'kubelet_pleg_relist_duration_seconds', help: 'Duration in seconds for relisting pods in PLEG.', buckets: DEFAULT_BUCKETS, registers });
  const plegInterval = new Histogram({ name: 'kubelet_pleg_relist_interval_seconds', help: 'Interval in seconds between relisting in PLEG.', buckets: DEFAULT_BUCKETS, registers });
  const syncSteps = new Histogram({
    name: 'mini_kubelet_sync_step_duration_seconds',
    help: "Duration in seconds of one step of the runtime manager's executor (sandbox, pull, create, start, kill, stopSandbox, postStart, preStop, ...), failed or not.",
    labelNames: ['step'], buckets: RUNTIME_OPERATION_BUCKETS, registers,
  });

  // Labelled children, made once per label value and kept: the hot path does a Map lookup at most.
  const stepChildren = new Map<string, Histogram.Internal<string>>();
  const workerChildren = new Map<PodWorkerOperation, Histogram.Internal<string>>();
  const containerTypeChildren = new Map<ContainerType, Counter.Internal>();
  const stateChildren = CONTAINER_STATES.map((state) => [state, runningContainers.labels(state)] as const);

  return {
    registry,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },

    operation(name: string): CriCallRecorder {
      const count = runtimeOperations.labels(name);
      const duration = runtimeDuration.labels(name);
      const errors = runtimeErrors.labels(name);
      return (seconds, failed) => {
        count.inc();
        duration.observe(seconds);
        if (failed) errors.inc();
      };
    },

    podStarting: () => startedPods.inc(),
    podStartFailed: () => startedPodsErrors.inc(),
    containerStarting(type) {
      let child = containerTypeChildren.get(type);
      if (!child) containerTypeChildren.set(type, (child = startedContainers.labels(type)));
      child.inc();
    },
    // Rare (a failure): no cache, the labels object is made per call.
    containerStartFailed: (type, code) => startedContainersErrors.inc({ container_type: type, code }),
    stepDone(step, seconds) {
      let child = stepChildren.get(step);
      if (!child) stepChildren.set(step, (child = syncSteps.labels(step)));
      child.observe(seconds);
    },

    relisted(durationSeconds, intervalSeconds, pods) {
      plegRelist.observe(durationSeconds);
      if (intervalSeconds !== undefined) plegInterval.observe(intervalSeconds);
      if (!pods) return;
      const counts = runningCounts(pods);
      runningPods.set(counts.pods);
      for (const [state, child] of stateChildren) child.set(counts.containers[state]);
    },

    workerDone(operation, seconds) {
      let child = workerChildren.get(operation);
      if (!child) workerChildren.set(operation, (child = podWorker.labels(operation)));
      child.observe(seconds);
    },
    podStarted: (seconds) => podStart.observe(seconds),
  };
}
