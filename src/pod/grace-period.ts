// How long a pod's containers get to stop, in seconds (the kubelet's rule).
import type { V1Pod } from '@kubernetes/client-node';

export const DEFAULT_GRACE_PERIOD_SECONDS = 30;

/** deletionGracePeriodSeconds (set by a delete), else terminationGracePeriodSeconds, else 30. */
export function podGracePeriodSeconds(pod: V1Pod | undefined): number {
  return pod?.metadata?.deletionGracePeriodSeconds ?? pod?.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS;
}
