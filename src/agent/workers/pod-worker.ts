// A pod worker's one sync: the body of the worker for one pod UID. It reads the pod's newest
// record, asks nextPodWorkerStep what to do, and does it:
//   cleanUp      gone from its source: kill and remove, release, unmount, forget (→ cleanedUp);
//   terminate    deleted on the API server: stop, publish the final status, DELETE (→ terminated);
//   admit        first sight: admit or reject (a rejected pod is Failed, → terminated);
//   stopFinished a final phase: stop what still runs, release, unmount (→ terminated);
//   failDeadline past spec.activeDeadlineSeconds: the pod becomes Failed (DeadlineExceeded), then stopFinished;
//   sync         volumes ready, then the runtime manager executes the pod's actions, then the
//                resulting status goes to the status manager, and the prober follows the new
//                container instances (its verdicts wake the pod again).
// Every state change goes through changeWorkerState, which writes the log line. Each sync is
// timed by its operation type (kubelet_pod_worker_duration_seconds), and the status that first
// shows the pod Running gives kubelet_pod_start_duration_seconds (since the pod was first seen).
import type { V1Node, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { filter } from 'rxjs';
import type { KnownInstances, PodRuntime, RuntimePodStatus, SyncContext, SyncResult } from '../../cri/runtime-manager/pod-runtime.ts';
import { instancesAfter } from '../../cri/runtime-manager/sync-result.ts';
import type { SandboxNetwork } from '../../cni/sandbox-network.ts';
import type { ContainerDevices } from '../../device/container-devices.ts';
import type { KubeApi } from '../api/kube-api.ts';
import { admitPod } from '../admission/admit-pod.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import { deleteMirrorPod, ensureMirrorPod } from '../sources/mirror-pods.ts';
import type { StatusManager } from '../status/status-manager.ts';
import { podGracePeriodSeconds } from '../../pod/grace-period.ts';
import { isTerminalPhase } from '../../pod/phase.ts';
import { podFullName, podLogFields, podRefOf } from '../../pod/pod-ref.ts';
import { nextPodWorkerStep, type PodWorkerFacts } from './next-pod-worker-step.ts';
import { changeWorkerState, isSyncingProgress, lifecycleOfWorker } from './pod-worker-state.ts';
import { lifecycleStepsOf, podLifecycleOf } from './pod-lifecycle.ts';
import type { PodRecord, PodRegistry } from './pod-registry.ts';
import type { VolumeStep } from './volume-step.ts';
import type { SysctlAllowlist } from '../admission/sysctls.ts';
import type { PodStatusCache } from '../pleg/pod-status-cache.ts';
import type { ProberManager } from '../prober/prober-manager.ts';
import type { ProbeResultsView } from '../../pod/probe-results.ts';
import { DEADLINE_EXCEEDED_MESSAGE, DEADLINE_EXCEEDED_REASON, msUntilActiveDeadline } from '../../pod/active-deadline.ts';
import { KUBELET_CONDITION_TYPES } from '../pod-status/conditions.ts';
import { clampTimerMs, MAX_TIMER_MS } from '../../util/timer-limit.ts';
import { isPodStart, podWorkerOperation, type PodWorkerMetrics, type PodWorkerOperation } from '../metrics/agent-metrics.ts';
import { withPodLogScope } from '../../pod/pod-log-scope.ts';
import { noTracing, type AgentTracing } from '../../trace/tracing.ts';
import { inSpan, markActiveSpanFailed, noteOnActiveSpan } from '../../trace/in-span.ts';

export type GeneratePodStatus = (pod: V1Pod, observed: RuntimePodStatus, sync: SyncResult | undefined,
  ctx: { hostIP: string; podIPs: string[]; now: Date; runtimeName?: string; probeResults?: ProbeResultsView }) => V1PodStatus;

export interface PodWorkerDeps {
  registry: PodRegistry;
  runtime: PodRuntime;
  devices: ContainerDevices;
  volumes: VolumeStep;
  /** Which sysctls pods may set: the safe set plus --allowed-unsafe-sysctls. */
  sysctls: SysctlAllowlist;
  network: SandboxNetwork;
  statusManager: StatusManager;
  prober: Pick<ProberManager, 'track' | 'terminating' | 'forget' | 'results' | 'changes'>;
  events: EventRecorder;
  /** Absent in standalone mode. */
  api?: KubeApi;
  node: () => V1Node;
  hostIP: () => string;
  runtimeName: () => string | undefined;
  syncContext: SyncContext;
  generatePodStatus: GeneratePodStatus;
  logger: Logger;
  /** Sync durations and pod start latency; default: not recorded. */
  metrics?: PodWorkerMetrics;
  /** The runtime pod cache that PLEG keeps current; absent: every read asks the runtime. */
  statusCache?: Pick<PodStatusCache, 'read' | 'acting' | 'changed' | 'forget'>;
  /** Each step of a wake (admission, sync, kill) is a root span of the pod's timeline; default: none. */
  tracing?: AgentTracing;
}

export interface PodWorkerOutcome {
  uid: string;
  /** Sync again after this long unless something else wakes the pod first. */
  retryAfterMs?: number;
  /** A step failed (the worker backs off before trying again unless retryAfterMs says when). */
  failed?: boolean;
}

/** A sync or kill whose steps failed: its span says so, with the first failure's message. */
function noteFailures(result: SyncResult): Record<string, string> {
  const first = result.failures[0];
  if (first) markActiveSpanFailed(`${first.reason}: ${first.message}`);
  return first ? { 'failure.reason': first.reason } : {};
}

/** The admission's verdict on its span; a rejection fails it with the kubelet's reason and message. */
function noteAdmission(r: PodRecord): void {
  const a = r.admission;
  if (!a) return;
  noteOnActiveSpan(a.admitted ? { 'admission.verdict': 'admitted' } : { 'admission.verdict': 'rejected', 'admission.reason': a.reason });
  if (!a.admitted) markActiveSpanFailed(`${a.reason}: ${a.message}`);
}

function hasAnything(observed: RuntimePodStatus): boolean {
  return observed.sandboxes.length > 0 || observed.containers.length > 0;
}


/** The facts nextPodWorkerStep decides from, read off the record. */
export function podWorkerFactsOf(r: PodRecord, latest: V1PodStatus | undefined, hasApi: boolean, nowMs: number): PodWorkerFacts {
  const untilDeadline = msUntilActiveDeadline(r.pod, latest?.startTime, nowMs);
  return {
    state: r.worker.state,
    removedFromSource: r.removed,
    deletionRequested: Boolean(r.pod.metadata?.deletionTimestamp),
    admission: r.admission === undefined ? 'pending' : r.admission.admitted ? 'admitted' : 'rejected',
    phase: latest?.phase,
    needsMirror: r.source === 'file' && hasApi,
    pastActiveDeadline: untilDeadline !== undefined && untilDeadline <= 0,
  };
}

export function createPodWorker(deps: PodWorkerDeps): (uid: string) => Promise<PodWorkerOutcome> {
  const { registry, runtime, devices, statusManager, logger } = deps;
  const tracing = deps.tracing ?? noTracing;

  const target = (r: PodRecord) => ({ ...podRefOf(r.pod), uid: r.uid, pod: r.pod });
  const { statusCache } = deps;
  const observe = async (r: PodRecord, known?: KnownInstances): Promise<RuntimePodStatus> => {
    const name = r.pod.metadata!.name!;
    const namespace = r.pod.metadata!.namespace ?? 'default';
    return statusCache ? (await statusCache.read(r.uid, name, namespace, known)).status : runtime.getPodStatus(r.uid, name, namespace, known);
  };
  /** Every kill goes through here, so the cache never outlives what the kill changed. */
  const killPod = async (r: PodRecord, observed: RuntimePodStatus, grace: number, remove: boolean): Promise<SyncResult> => {
    statusCache?.acting(r.uid);
    try {
      return await inSpan(remove ? 'RemovePod' : 'KillPod', { 'grace.seconds': grace }, () => runtime.killPod(target(r), observed, grace, remove), noteFailures);
    } finally {
      statusCache?.changed(r.uid);
    }
  };
  const record = (r: PodRecord, result: SyncResult) => {
    for (const e of result.events) deps.events.record(r.pod, e);
  };
  const latestStatus = (r: PodRecord): V1PodStatus | undefined => statusManager.latest(r.uid) ?? r.pod.status;
  const latestPhase = (r: PodRecord) => latestStatus(r)?.phase;

  /** The pod as the next status computation must see it: with the newest status we computed, and
   * the conditions other components set (readiness gates) as the API server has them. */
  const withLatestStatus = (r: PodRecord): V1Pod => {
    const ours = statusManager.latest(r.uid);
    if (!ours) return r.pod;
    const foreign = (r.pod.status?.conditions ?? []).filter((c) => !KUBELET_CONDITION_TYPES.has(c.type));
    const own = (ours.conditions ?? []).filter((c) => KUBELET_CONDITION_TYPES.has(c.type));
    return { ...r.pod, status: { ...ours, conditions: [...own, ...foreign] } };
  };

  /** Computes the pod's API status from what the runtime holds and hands it to the status manager. */
  function publishStatus(r: PodRecord, pod: V1Pod, observed: RuntimePodStatus, result: SyncResult | undefined): V1PodStatus {
    const sandbox = observed.sandboxes[0];
    const podIPs = sandbox ? (sandbox.ips.length ? sandbox.ips : deps.network.ipsOf(sandbox.id) ?? []) : [];
    const status = deps.generatePodStatus(pod, observed, result, {
      hostIP: deps.hostIP(), podIPs, now: new Date(), runtimeName: deps.runtimeName(), probeResults: deps.prober.results,
    });
    if (deps.metrics && r.firstSeenMs !== undefined && isPodStart(latestPhase(r), status.phase)) {
      deps.metrics.podStarted((Date.now() - r.firstSeenMs) / 1000);
    }
    statusManager.set(r.pod, status);
    return status;
  }

  /** Gone from its source: kill and remove everything, release, unmount, forget. */
  async function cleanUp(r: PodRecord): Promise<void> {
    deps.prober.forget(r.uid);
    const observed = await observe(r);
    if (hasAnything(observed)) {
      if (r.worker.state === 'syncing') changeWorkerState(r, { state: 'terminating' }, logger);
      record(r, await killPod(r, observed, podGracePeriodSeconds(r.pod), true));
    }
    await devices.release(r.uid);
    await deps.volumes.tearDown(r.uid);
    if (r.source === 'file' && deps.api) {
      const mirror = registry.mirrorOf(podFullName(r.pod));
      if (mirror) await deleteMirrorPod(deps.api, mirror);
    }
    changeWorkerState(r, { state: 'cleanedUp' }, logger);
    statusManager.forget(r.uid);
    statusCache?.forget(r.uid);
    registry.forget(r.uid);
  }

  /** While the pod's containers stop (which takes up to the grace period, with this pod's worker
   * busy): each readiness verdict that changes republishes the status, as the kubelet's status
   * manager takes readiness updates beside the pod worker. stop() waits for a publication in flight. */
  function followReadiness(r: PodRecord): { stop(): Promise<void> } {
    let inFlight = Promise.resolve();
    const subscription = deps.prober.changes.pipe(filter((uid) => uid === r.uid)).subscribe(() => {
      inFlight = inFlight
        .then(async () => void publishStatus(r, withLatestStatus(r), await observe(r), undefined))
        .catch((err: unknown) => logger.warn({ ...podLogFields(podRefOf(r.pod)), uid: r.uid, err }, 'status during termination failed'));
    });
    return {
      async stop() {
        subscription.unsubscribe();
        await inFlight;
      },
    };
  }

  /** Deleted on the API server: stop within the grace period, publish how it ended, then DELETE.
   * Runs on every wake until the source removes the pod; each pass is idempotent. A kill that
   * failed (a sandbox whose network teardown failed) leaves the pod Terminating on the API
   * server and retries with the worker's backoff, as the kubelet does: confirming the deletion
   * would hide what still runs. */
  async function terminate(r: PodRecord): Promise<PodWorkerOutcome> {
    const grace = podGracePeriodSeconds(r.pod);
    // Liveness and startup stop now; readiness runs on until the containers have stopped.
    deps.prober.terminating(r.uid);
    const observed = await observe(r);
    if (hasAnything(observed)) {
      if (r.worker.state === 'syncing') changeWorkerState(r, { state: 'terminating' }, logger, { gracePeriodSeconds: grace });
      const readiness = followReadiness(r);
      let killed: SyncResult;
      try {
        killed = await killPod(r, observed, grace, false);
        record(r, killed);
      } finally {
        await readiness.stop();
        deps.prober.forget(r.uid);
      }
      if (killed.failures.length) return stopFailed(r, killed);
      // Kubelet order: publish how the containers ended (exit codes, termination messages)
      // before the pod object goes away, so watchers and controllers see it; then remove.
      const stopped = await observe(r, instancesAfter(observed, killed));
      publishStatus(r, withLatestStatus(r), stopped, undefined);
      await statusManager.flush();
      const removed = await killPod(r, stopped, grace, true);
      record(r, removed);
      if (removed.failures.length) return stopFailed(r, removed);
    }
    deps.prober.forget(r.uid);
    await devices.release(r.uid);
    await deps.volumes.tearDown(r.uid);
    // The API server removes the object once the node says it is done (grace 0, same uid).
    await deps.api?.deletePod(r.pod.metadata!.namespace ?? 'default', r.pod.metadata!.name!, r.uid, 0);
    changeWorkerState(r, { state: 'terminated' }, logger);
    return { uid: r.uid };
  }

  /** A kill that failed while terminating: logged, and retried after the worker's backoff. */
  function stopFailed(r: PodRecord, result: SyncResult): PodWorkerOutcome {
    for (const f of result.failures) {
      logger.warn({ ...podLogFields(podRefOf(r.pod)), uid: r.uid, step: f.step, reason: f.reason, container: f.container, message: f.message }, 'stopping the pod failed; it stays Terminating');
    }
    return { uid: r.uid, failed: true };
  }

  /** First sight: the node's admission, then the device manager's. A rejected pod is Failed and terminated. */
  async function admit(r: PodRecord): Promise<void> {
    const others = registry.all()
      .filter((o) => o.uid !== r.uid && !o.removed && o.admission?.admitted && !isTerminalPhase(latestPhase(o)))
      .map((o) => o.pod);
    const deviceResources = devices.resources();
    let result = admitPod(r.pod, deps.node(), others, (name) => name in deviceResources, deps.sysctls);
    // Mark before the await, so a pod admitted in parallel counts this one's requests.
    r.admission = result;
    if (result.admitted) {
      const d = await devices.admit(r.pod).catch((err) => ({ admitted: false as const, reason: 'UnexpectedAdmissionError', message: String(err) }));
      if (!d.admitted) result = r.admission = d;
    }
    if (result.admitted) {
      changeWorkerState(r, { state: 'syncing', label: 'Admitted' }, logger);
      return;
    }
    deps.events.record(r.pod, { type: 'Warning', reason: result.reason, message: result.message });
    statusManager.set(r.pod, {
      ...r.pod.status,
      phase: 'Failed',
      reason: result.reason,
      message: `Pod was rejected: ${result.message}`,
    });
    changeWorkerState(r, { state: 'terminated', label: 'Rejected' }, logger, { reason: result.reason, message: result.message });
  }

  /** A final phase: nothing restarts, so stop what still runs and release what it held, once. */
  async function stopFinished(r: PodRecord): Promise<void> {
    deps.prober.forget(r.uid);
    const observed = await observe(r);
    const running = observed.containers.some((c) => c.state === 'running') || observed.sandboxes.some((s) => s.state === 'ready');
    if (running) {
      const killed = await killPod(r, observed, podGracePeriodSeconds(r.pod), false);
      record(r, killed);
      // Show how the containers the stop ended finished (a deadline, a Job's sidecars).
      publishStatus(r, withLatestStatus(r), await observe(r, instancesAfter(observed, killed)), undefined);
    }
    await devices.release(r.uid);
    // A finished pod's containers never start again: its volumes go now, as the kubelet unmounts them.
    await deps.volumes.tearDown(r.uid);
    changeWorkerState(r, { state: 'terminated', label: latestPhase(r) }, logger);
  }

  /** Past spec.activeDeadlineSeconds: the containers are stopped, then the pod is Failed with the
   * kubelet's reason (a final phase is shown only once nothing runs); stopFinished releases the rest. */
  async function failDeadline(r: PodRecord): Promise<void> {
    deps.prober.forget(r.uid);
    deps.events.record(r.pod, { type: 'Normal', reason: DEADLINE_EXCEEDED_REASON, message: DEADLINE_EXCEEDED_MESSAGE });
    const observed = await observe(r);
    const killed = await killPod(r, observed, podGracePeriodSeconds(r.pod), false);
    record(r, killed);
    const pod = withLatestStatus(r);
    const failed: V1Pod = { ...pod, status: { ...pod.status, phase: 'Failed', reason: DEADLINE_EXCEEDED_REASON, message: DEADLINE_EXCEEDED_MESSAGE } };
    publishStatus(r, failed, await observe(r, instancesAfter(observed, killed)), undefined);
  }

  /** Volumes, then the runtime manager's actions, then the status they led to. `finished`: that
   * status has a final phase. */
  async function sync(r: PodRecord): Promise<{ outcome: PodWorkerOutcome; finished: boolean }> {
    const uid = r.uid;
    const pod = withLatestStatus(r);
    const observed = await observe(r);
    const prepare = () => deps.volumes.prepare(pod, deps.syncContext, observed.containers.some((c) => c.state === 'running'));
    const volumeCount = pod.spec?.volumes?.length ?? 0;
    const volumes = await (volumeCount ? inSpan('volumes.setup', { 'volumes.count': volumeCount }, prepare, (v) => (v.ok ? {} : noteFailures(v.result))) : prepare());
    if (!volumes.ok) {
      markActiveSpanFailed(volumes.result.failures[0]?.message ?? 'volumes not ready');
      record(r, volumes.result);
      publishStatus(r, pod, observed, volumes.result);
      return { outcome: { uid, failed: true }, finished: false };
    }
    for (const e of volumes.events) deps.events.record(r.pod, e);
    statusCache?.acting(uid);
    const result = await runtime.executePodActions(pod, observed, volumes.syncContext);
    if (result.runtimeChanged) statusCache?.changed(uid);
    record(r, result);
    const after = await observe(r, instancesAfter(observed, result));
    const status = publishStatus(r, pod, after, result);
    for (const f of result.failures) {
      logger.warn({ ...podLogFields(podRefOf(r.pod)), uid, step: f.step, reason: f.reason, container: f.container, message: f.message }, 'sync step failed');
    }
    noteFailures(result);
    deps.prober.track(pod, after, status.podIP);
    // The lifecycle states this sync went through, each on its line (a final phase: stopFinished's).
    const lifecycle = podLifecycleOf({ pod, observed: after, phase: status.phase });
    const created = { sandbox: (result.created?.sandboxIds.length ?? 0) > 0, containers: (result.created?.containers.length ?? 0) > 0 };
    for (const step of lifecycleStepsOf(lifecycleOfWorker(r.worker) ?? 'Admitted', lifecycle, created)) {
      if (isSyncingProgress(step)) changeWorkerState(r, { state: 'syncing', progress: step }, logger);
    }
    // Wake again when the active deadline passes, if nothing else wakes the pod first.
    const untilDeadline = msUntilActiveDeadline(r.pod, status.startTime, Date.now());
    const retryAfterMs = untilDeadline === undefined ? result.retryAfterMs : clampTimerMs(Math.min(result.retryAfterMs ?? MAX_TIMER_MS, Math.max(untilDeadline, 1)));
    return { outcome: { uid, retryAfterMs, failed: result.failures.length > 0 }, finished: isTerminalPhase(status.phase) };
  }

  async function ensureMirror(r: PodRecord): Promise<void> {
    await ensureMirrorPod(deps.api!, r.pod, registry.mirrorOf(podFullName(r.pod)), deps.node())
      .catch((err) => logger.warn({ pod: podFullName(r.pod), uid: r.uid, err: String(err) }, 'mirror pod not created'));
  }

  /** The steps of one wake; `took.operation` follows them (the kubelet's operation type). */
  async function runSteps(r: PodRecord, updated: boolean, took: { operation: PodWorkerOperation | undefined }): Promise<PodWorkerOutcome> {
    const uid = r.uid;
    let outcome: PodWorkerOutcome = { uid };
    let mirrorEnsured = false;
    // A step that changes the facts (admission, a sync that ends in a final phase) is followed
    // by the next one in the same wake; at most admit → sync → stopFinished.
    for (;;) {
      const step = nextPodWorkerStep(podWorkerFactsOf(r, latestStatus(r), deps.api !== undefined, Date.now()));
      took.operation = podWorkerOperation(took.operation, step.kind, updated);
      if ('ensureMirror' in step && step.ensureMirror && !mirrorEnsured) {
        mirrorEnsured = true;
        await ensureMirror(r);
      }
      // Each step is a root span of the pod's timeline (pod.sync, pod.admission, pod.terminate, ...).
      const traced = <T>(name: string, fn: () => Promise<T>): Promise<T> => tracing.podRoot(name, { uid, name: r.pod.metadata?.name ?? '', namespace: r.pod.metadata?.namespace ?? 'default' }, { 'pod.worker.step': step.kind }, fn);
      switch (step.kind) {
        case 'cleanUp': await traced('pod.cleanUp', () => cleanUp(r)); return outcome;
        case 'terminate': return traced('pod.terminate', () => terminate(r));
        case 'admit': await traced('pod.admission', () => admit(r).then(() => noteAdmission(r))); continue;
        case 'stopFinished': await traced('pod.stopFinished', () => stopFinished(r)); return outcome;
        case 'failDeadline': await traced('pod.failDeadline', () => failDeadline(r)); continue;
        case 'idle': return outcome;
        case 'sync': {
          const synced = await traced('pod.sync', () => sync(r));
          outcome = synced.outcome;
          // A sync that ends in a final phase stops the pod in this same wake.
          if (!synced.finished) return outcome;
          continue;
        }
      }
    }
  }

  return async function podWorkerSync(uid: string): Promise<PodWorkerOutcome> {
    const r = registry.get(uid);
    if (!r) return { uid };
    const started = performance.now();
    const updated = r.updatedSinceSync === true;
    r.updatedSinceSync = false;
    const took = { operation: undefined as PodWorkerOperation | undefined };
    try {
      // Everything this wake does (CRI calls, volumes, kills) logs with the pod and its uid.
      return await withPodLogScope({ pod: podFullName(r.pod), uid }, () => runSteps(r, updated, took));
    } finally {
      if (took.operation) deps.metrics?.workerDone(took.operation, (performance.now() - started) / 1000);
    }
  };
}
