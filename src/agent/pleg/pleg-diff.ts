// PLEG's comparison: what changed between two runtime relists, per pod UID. Pure.
import type { RuntimePodStatus } from '../../cri/runtime-manager/pod-runtime.ts';

/** A pod's runtime shape: which sandboxes and containers exist, in which state. */
export type PodFingerprint = string;

export function fingerprint(pod: RuntimePodStatus): PodFingerprint {
  const sandboxes = pod.sandboxes.map((s) => `s:${s.id}:${s.state}`).sort();
  const containers = pod.containers.map((c) => `c:${c.id}:${c.state}`).sort();
  return [...sandboxes, ...containers].join(',');
}

export function snapshotOf(pods: readonly RuntimePodStatus[]): Map<string, PodFingerprint> {
  const snapshot = new Map<string, PodFingerprint>();
  for (const p of pods) snapshot.set(p.uid, fingerprint(p));
  return snapshot;
}

/** UIDs whose sandboxes or containers appeared, vanished or changed state. */
export function changedPods(previous: ReadonlyMap<string, PodFingerprint>, next: ReadonlyMap<string, PodFingerprint>): string[] {
  const changed: string[] = [];
  for (const [uid, fp] of next) if (previous.get(uid) !== fp) changed.push(uid);
  for (const uid of previous.keys()) if (!next.has(uid)) changed.push(uid);
  return changed;
}

export type PodChange = 'appeared' | 'changed' | 'disappeared';

/** What changedPods reports, with how each pod changed (for the log: a relist that found nothing new says nothing). */
export function podChanges(previous: ReadonlyMap<string, PodFingerprint>, next: ReadonlyMap<string, PodFingerprint>): Array<{ uid: string; change: PodChange }> {
  return changedPods(previous, next).map((uid) => ({ uid, change: !next.has(uid) ? 'disappeared' : previous.has(uid) ? 'changed' : 'appeared' }));
}
