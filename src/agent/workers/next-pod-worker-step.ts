// What a pod worker does next, decided from facts alone (PURE: no I/O, no clock), as
// computePodActions decides for containers. The worker (pod-worker.ts) does the step, then asks
// again when the step changed the facts (admitted → sync; synced into a final phase → stop).
// Reading order of the rules:
//   1. gone from its source → clean up (kill, release, forget);
//   2. deleted on the API server → terminate (stop within the grace period, final status, DELETE);
//   3. not yet admitted → admit; rejected → nothing more, ever;
//   4. a final phase (Succeeded/Failed) → stop what still runs, once;
//   5. active longer than spec.activeDeadlineSeconds → fail it (DeadlineExceeded), then 4;
//   6. otherwise → sync toward the spec.
import { isTerminalPhase } from '../../pod/phase.ts';
import type { PodWorkerState } from './pod-worker-state.ts';

export interface PodWorkerFacts {
  state: PodWorkerState;
  /** The pod's source no longer lists it (API DELETE event, static file gone). */
  removedFromSource: boolean;
  /** metadata.deletionTimestamp is set. */
  deletionRequested: boolean;
  admission: 'pending' | 'admitted' | 'rejected';
  /** The newest phase known: ours (status manager), else the API server's. */
  phase: string | undefined;
  /** A static pod on a node with an API server: it needs a mirror pod. */
  needsMirror: boolean;
  /** Started longer ago than spec.activeDeadlineSeconds. */
  pastActiveDeadline: boolean;
}

export type PodWorkerStep =
  | { kind: 'cleanUp' }
  | { kind: 'terminate' }
  | { kind: 'admit' }
  | { kind: 'sync'; ensureMirror: boolean }
  | { kind: 'stopFinished'; ensureMirror: boolean }
  | { kind: 'failDeadline'; ensureMirror: boolean }
  /** Nothing to do on this wake. */
  | { kind: 'idle'; why: string; ensureMirror: boolean };

export function nextPodWorkerStep(f: PodWorkerFacts): PodWorkerStep {
  if (f.state === 'cleanedUp') return { kind: 'idle', why: 'cleaned up', ensureMirror: false };
  if (f.removedFromSource) return { kind: 'cleanUp' };
  if (f.deletionRequested) return { kind: 'terminate' };
  if (f.admission === 'pending') return { kind: 'admit' };
  if (f.admission === 'rejected') return { kind: 'idle', why: 'rejected at admission', ensureMirror: false };
  // An admitted static pod keeps its mirror, running or finished.
  const ensureMirror = f.needsMirror;
  if (isTerminalPhase(f.phase)) {
    return f.state === 'terminated' ? { kind: 'idle', why: `finished (${f.phase})`, ensureMirror } : { kind: 'stopFinished', ensureMirror };
  }
  if (f.pastActiveDeadline) return { kind: 'failDeadline', ensureMirror };
  return { kind: 'sync', ensureMirror };
}
