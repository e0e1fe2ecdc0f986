// spec.activeDeadlineSeconds: how long a pod may be active on the node, counted from its
// status.startTime. Past it the kubelet fails the pod with this reason and message.
import type { V1Pod } from '@kubernetes/client-node';

export const DEADLINE_EXCEEDED_REASON = 'DeadlineExceeded';
export const DEADLINE_EXCEEDED_MESSAGE = 'Pod was active on the node longer than the specified deadline';

/** Milliseconds left before the deadline (≤ 0: it has passed); undefined: no deadline, or not started. */
export function msUntilActiveDeadline(pod: V1Pod, startTime: Date | string | undefined, nowMs: number): number | undefined {
  const seconds = pod.spec?.activeDeadlineSeconds;
  if (seconds === undefined || seconds === null || startTime === undefined) return undefined;
  const startMs = new Date(startTime).getTime();
  if (Number.isNaN(startMs)) return undefined;
  return startMs + seconds * 1000 - nowMs;
}
