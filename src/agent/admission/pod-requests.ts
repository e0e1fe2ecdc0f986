// What a pod asks of the node: the kubelet's effective request, max(sum of app containers,
// largest init container) plus pod overhead, per resource.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { milliCpu, parseQuantity } from '../../pod/quantity.ts';

/** Requests in node units: cpu in millicores, everything else in base units. */
export type ResourceAmounts = Record<string, number>;

function amount(resource: string, q: string | number | undefined): number {
  return resource === 'cpu' ? milliCpu(q) : Math.ceil(parseQuantity(q));
}

function containerRequests(c: V1Container): ResourceAmounts {
  // Without requests the API server defaults them to the limits; do the same for objects that skipped defaulting.
  const source = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) } as Record<string, string>;
  const out: ResourceAmounts = {};
  for (const [name, q] of Object.entries(source)) out[name] = amount(name, q);
  return out;
}

export function podRequests(pod: V1Pod): ResourceAmounts {
  const total: ResourceAmounts = {};
  for (const c of pod.spec?.containers ?? []) {
    for (const [name, v] of Object.entries(containerRequests(c))) total[name] = (total[name] ?? 0) + v;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [name, v] of Object.entries(containerRequests(c))) total[name] = Math.max(total[name] ?? 0, v);
  }
  for (const [name, q] of Object.entries((pod.spec?.overhead ?? {}) as Record<string, string>)) {
    total[name] = (total[name] ?? 0) + amount(name, q);
  }
  return total;
}
