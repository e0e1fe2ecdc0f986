// A pod worker's states, as the kubelet's pod workers have them, and the one function that
// changes them (writing the log line a reader follows, with the time spent in the last state):
//   syncing → terminating → terminated → cleanedUp
// A pod starts syncing (admission is the first thing its worker does). A pod rejected at
// admission, or whose phase became Succeeded/Failed, goes to terminated without terminating.
// Within syncing, `progress` says how far the pod got; it is a log label, not a state.
// Each line names the pod's lifecycle state (pod-lifecycle.ts): Admitted, SandboxReady,
// ContainersStarting, Running, ContainersFailing, Terminating, Terminated.
import type { Logger } from 'pino';
import { podLogFields, podRefOf } from '../../pod/pod-ref.ts';
import type { PodLifecycleState } from './pod-lifecycle.ts';
import type { PodRecord } from './pod-registry.ts';

export type PodWorkerState =
  /** Admitted (or about to be): its containers are driven toward the spec. */
  | 'syncing'
  /** Deleted or removed: its containers are stopping within the grace period. */
  | 'terminating'
  /** Nothing of it runs; devices and volumes are released. It keeps its final status. */
  | 'terminated'
  /** Gone from its source and from the runtime; the record is forgotten. */
  | 'cleanedUp';

/** The lifecycle states within syncing, past Admitted. */
export type SyncingProgress = Extract<PodLifecycleState, 'SandboxReady' | 'ContainersStarting' | 'Running' | 'ContainersFailing'>;

export function isSyncingProgress(s: PodLifecycleState): s is SyncingProgress {
  return s === 'SandboxReady' || s === 'ContainersStarting' || s === 'Running' || s === 'ContainersFailing';
}

/** The lifecycle state a worker state (and progress) shows; cleanedUp has none. */
export function lifecycleOfWorker(status: { state: PodWorkerState; progress?: SyncingProgress }): PodLifecycleState | undefined {
  switch (status.state) {
    case 'syncing': return status.progress ?? 'Admitted';
    case 'terminating': return 'Terminating';
    case 'terminated': return 'Terminated';
    case 'cleanedUp': return undefined;
  }
}

/** Where a worker may go from each state. Anything else is a bug in the worker. */
const NEXT_STATES: Record<PodWorkerState, readonly PodWorkerState[]> = {
  syncing: ['terminating', 'terminated', 'cleanedUp'],
  // Back to syncing only when a pod removed from its source comes back (same UID) before its
  // clean-up finished; a deleted pod never comes back (a deletionTimestamp is never unset).
  terminating: ['terminated', 'cleanedUp', 'syncing'],
  terminated: ['cleanedUp'],
  cleanedUp: [],
};

export interface PodWorkerStatus {
  state: PodWorkerState;
  progress?: SyncingProgress;
  /** When the state (or the progress) last changed, ms since epoch. */
  sinceMs: number;
}

export function initialWorkerStatus(nowMs: number): PodWorkerStatus {
  return { state: 'syncing', sinceMs: nowMs };
}

/** Moves the record's worker to `state` (and `progress` within syncing) and logs it; staying put logs nothing.
 * `label` names the step in the log (Admitted, Rejected, Succeeded, ...) when the state alone does not. */
export function changeWorkerState(
  record: PodRecord, to: { state: PodWorkerState; progress?: SyncingProgress; label?: string }, logger: Logger, extra: Record<string, unknown> = {},
): void {
  const from = record.worker;
  const progress = to.state === 'syncing' ? to.progress : undefined;
  if (from.state === to.state && from.progress === progress && to.label === undefined) return;
  if (from.state !== to.state && !NEXT_STATES[from.state].includes(to.state)) {
    throw new Error(`pod ${podLogFields(podRefOf(record.pod)).pod} (${record.uid}): worker cannot go from ${from.state} to ${to.state}`);
  }
  const now = Date.now();
  const step = to.label ?? progress ?? to.state;
  const lifecycle = lifecycleOfWorker({ state: to.state, progress });
  logger.info({
    ...podLogFields(podRefOf(record.pod)),
    uid: record.uid,
    state: to.state,
    ...(lifecycle ? { lifecycle } : {}),
    step,
    from: from.progress ?? from.state,
    ms: now - from.sinceMs,
    ...extra,
  }, `pod ${to.label ?? lifecycle ?? step}`);
  record.worker = { state: to.state, ...(progress ? { progress } : {}), sinceMs: now };
}
