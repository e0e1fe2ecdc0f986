// The pod's QoS class from its containers' requests and limits (kubelet's GetPodQOS), in
// brief: no requests or limits anywhere → BestEffort; cpu and memory limits on every container
// with requests equal to limits → Guaranteed; anything else → Burstable.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { quantityOrNaN } from './quantity.ts';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const COMPUTE = ['cpu', 'memory'] as const;

export function podQosClass(pod: V1Pod): QosClass {
  const all: V1Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let anySet = false;
  let guaranteed = true;
  for (const c of all) {
    const limits = c.resources?.limits ?? {};
    // An unset request defaults to the limit (API defaulting).
    const requests = { ...limits, ...(c.resources?.requests ?? {}) };
    for (const r of COMPUTE) {
      if (isNonZero(requests[r]) || isNonZero(limits[r])) anySet = true;
      if (limits[r] === undefined || requests[r] === undefined || quantityOrNaN(String(limits[r])) !== quantityOrNaN(String(requests[r]))) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function isNonZero(q: unknown): boolean {
  return q !== undefined && quantityOrNaN(String(q)) !== 0;
}
