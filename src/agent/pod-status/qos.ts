// The pod's QoS class from its containers' requests and limits (kubelet's GetPodQOS), in
// brief: no requests or limits anywhere → BestEffort; cpu and memory limits on every container
// with requests equal to limits → Guaranteed; anything else → Burstable.
import type { V1Container, V1Pod } from '@kubernetes/client-node';

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
      if (limits[r] === undefined || requests[r] === undefined || parseQuantity(String(limits[r])) !== parseQuantity(String(requests[r]))) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function isNonZero(q: unknown): boolean {
  return q !== undefined && parseQuantity(String(q)) !== 0;
}

const SUFFIXES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity ("500m", "1Gi", "1e3", "2") as a number; NaN when malformed. */
export function parseQuantity(q: string): number {
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(q.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * SUFFIXES[m[2] ?? '']!;
}
