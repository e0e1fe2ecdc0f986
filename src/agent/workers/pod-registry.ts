// The agent's set of pods: the merged view of all sources, keyed by UID, with what the agent
// decided about each (admission, the pod worker's state). Mirror pods are kept apart: they only
// carry static pods' status to the API server and never run.
import type { V1Pod } from '@kubernetes/client-node';
import type { AdmitResult } from '../admission/admit-pod.ts';
import { isMirrorPod, podUid, type PodSourceName, type PodUpdate } from '../sources/pod-update.ts';
import { podFullName } from '../../pod/pod-ref.ts';
import { initialWorkerStatus, type PodWorkerStatus } from './pod-worker-state.ts';

export interface PodRecord {
  uid: string;
  pod: V1Pod;
  source: PodSourceName;
  /** Gone from its source (API DELETE, static file removed): kill, then forget. */
  removed: boolean;
  /** Undefined until the worker admits it; a rejection keeps its reason here. */
  admission?: AdmitResult;
  /** The pod worker's state: changed only through changeWorkerState (pod-worker-state.ts). */
  worker: PodWorkerStatus;
  /** When a source first told of this UID (ms since epoch): kubelet_pod_start_duration_seconds counts from here. */
  firstSeenMs?: number;
  /** A change that matters to a sync arrived since the worker last took it (the kubelet's UPDATE). */
  updatedSinceSync?: boolean;
}

/** Does the change matter to a sync? Status and bookkeeping fields do not, except the conditions
 * the pod's readiness gates name: other components set those, and Ready follows them. */
export function podChangedForSync(before: V1Pod, after: V1Pod): boolean {
  const gateConditions = (p: V1Pod) => (p.spec?.readinessGates ?? [])
    .map((g) => p.status?.conditions?.find((c) => c.type === g.conditionType)?.status ?? null);
  const relevant = (p: V1Pod) => JSON.stringify([
    p.spec, p.metadata?.labels, p.metadata?.annotations, p.metadata?.deletionTimestamp, p.metadata?.deletionGracePeriodSeconds,
    gateConditions(p),
  ]);
  return relevant(before) !== relevant(after);
}

export class PodRegistry {
  private readonly pods = new Map<string, PodRecord>();
  private readonly mirrors = new Map<string, V1Pod>();

  /** Apply one source update; returns the UID whose worker should sync, if any. */
  apply(update: PodUpdate): string | undefined {
    const { pod } = update;
    if (isMirrorPod(pod)) {
      if (update.op === 'DELETE') this.mirrors.delete(podFullName(pod));
      else this.mirrors.set(podFullName(pod), pod);
      // Wake the static pod so it recreates or adopts its mirror.
      return this.staticPodNamed(podFullName(pod))?.uid;
    }
    const uid = podUid(pod);
    const record = this.pods.get(uid);
    if (update.op === 'DELETE') {
      if (record) record.removed = true;
      return record ? uid : undefined;
    }
    if (record) {
      const wasRemoved = record.removed;
      const changed = podChangedForSync(record.pod, pod);
      record.pod = pod;
      record.removed = false;
      if (changed) record.updatedSinceSync = true;
      // Our own status writes echo back as updates; like the kubelet, only a change in
      // what the pod asks for wakes its worker.
      return changed || wasRemoved ? uid : undefined;
    } else {
      const now = Date.now();
      this.pods.set(uid, { uid, pod, source: update.source, removed: false, worker: initialWorkerStatus(now), firstSeenMs: now });
    }
    return uid;
  }

  get(uid: string): PodRecord | undefined {
    return this.pods.get(uid);
  }

  forget(uid: string): void {
    this.pods.delete(uid);
  }

  all(): PodRecord[] {
    return [...this.pods.values()];
  }

  uids(): Set<string> {
    return new Set(this.pods.keys());
  }

  mirrorOf(fullName: string): V1Pod | undefined {
    return this.mirrors.get(fullName);
  }

  private staticPodNamed(fullName: string): PodRecord | undefined {
    return this.all().find((r) => r.source === 'file' && !r.removed && podFullName(r.pod) === fullName);
  }
}
