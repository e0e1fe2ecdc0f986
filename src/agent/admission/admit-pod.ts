// Pod admission, the kubelet's last word before a pod may run here. Pure: the node, the
// pods already admitted, the node's sysctl allowlist and the pod decide it: sysctls, OS,
// resources, affinity, host ports. Devices are asked separately (they allocate).
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { hostPortConflict } from './host-ports.ts';
import { podMatchesNode } from './node-affinity.ts';
import { podRequests } from './pod-requests.ts';
import { podOsRejection } from './pod-os.ts';
import { forbiddenSysctl, sysctlAllowlist, type SysctlAllowlist } from './sysctls.ts';
import { milliCpu, parseQuantity, quantityValueProblem } from '../../pod/quantity.ts';

export type AdmitResult = { admitted: true } | { admitted: false; reason: string; message: string };

function allocatableOf(node: V1Node): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, q] of Object.entries((node.status?.allocatable ?? {}) as Record<string, string>)) {
    out[name] = name === 'cpu' ? milliCpu(q) : Math.floor(parseQuantity(q));
  }
  return out;
}

/** podRequests per pod spec, computed once: every admission sums the requests of every admitted
 * pod, thousands on a big node. Keyed by the spec object, which a pod update replaces. */
const requestsOfSpec = new WeakMap<object, Record<string, number>>();
function cachedRequests(pod: V1Pod): Record<string, number> {
  if (!pod.spec) return podRequests(pod);
  let r = requestsOfSpec.get(pod.spec);
  if (!r) requestsOfSpec.set(pod.spec, r = podRequests(pod));
  return r;
}

function rejected(reason: string, message: string): AdmitResult {
  return { admitted: false, reason, message };
}

const safeSysctlsOnly = sysctlAllowlist();

/** Reason of a pod whose requests, limits or overhead hold a quantity that does not parse. The API
 * server refuses such a pod at decoding, but a static pod file reaches the agent without it; the
 * kubelet has no reason of its own for this, so the name says what is wrong. */
export const INVALID_QUANTITY_REASON = 'InvalidResourceQuantity';

/** The first quantity the fit check could not read: "<field>: invalid quantity <value>: <parser's error>". */
function invalidQuantity(pod: V1Pod): string | undefined {
  const lists: Array<[string, unknown]> = [];
  for (const [kind, list] of [['initContainers', pod.spec?.initContainers], ['containers', pod.spec?.containers]] as const) {
    (list ?? []).forEach((c, i) => {
      lists.push([`spec.${kind}[${i}].resources.requests`, c.resources?.requests]);
      lists.push([`spec.${kind}[${i}].resources.limits`, c.resources?.limits]);
    });
  }
  lists.push(['spec.overhead', pod.spec?.overhead]);
  for (const [field, list] of lists) {
    if (list === undefined || list === null) continue;
    if (typeof list !== 'object' || Array.isArray(list)) return `${field}: invalid resource list ${JSON.stringify(list)}`;
    for (const [name, q] of Object.entries(list)) {
      const problem = quantityValueProblem(q);
      if (problem) return `${field}[${name}]: invalid quantity ${JSON.stringify(q)}: ${problem}`;
    }
  }
  return undefined;
}

/**
 * deviceManaged names the extended resources a device plugin serves: the device manager is
 * their authority (it counts free healthy devices and rejects with UnexpectedAdmissionError),
 * so the fit check leaves them out, as the kubelet's device admission runs before its fit check.
 * sysctls is the node's allowlist (the safe set plus --allowed-unsafe-sysctls).
 */
export function admitPod(
  pod: V1Pod, node: V1Node, admittedPods: readonly V1Pod[], deviceManaged: (resource: string) => boolean = () => false,
  sysctls: SysctlAllowlist = safeSysctlsOnly,
): AdmitResult {
  // The kubelet's sysctl handler runs before its predicates; the OS checks lead the predicates.
  const sysctl = forbiddenSysctl(pod, sysctls);
  if (sysctl) return rejected('SysctlForbidden', sysctl);
  const os = podOsRejection(pod);
  if (os) return rejected(os.reason, os.message);
  // The fit check below parses every request; one it cannot read rejects the pod instead of throwing.
  const quantity = invalidQuantity(pod);
  if (quantity) return rejected(INVALID_QUANTITY_REASON, quantity);

  const allocatable = allocatableOf(node);

  // Resources first, as the kubelet's fit check: pods count, then each requested resource.
  const maxPods = allocatable.pods ?? Infinity;
  if (admittedPods.length + 1 > maxPods) {
    return rejected('OutOfpods', `Node didn't have enough resource: pods, requested: 1, used: ${admittedPods.length}, capacity: ${maxPods}`);
  }
  const requested = podRequests(pod);
  const used: Record<string, number> = {};
  for (const p of admittedPods) {
    const r = cachedRequests(p);
    for (const name in r) used[name] = (used[name] ?? 0) + r[name]!;
  }
  const order = ['cpu', 'memory', 'ephemeral-storage', ...Object.keys(requested).filter((n) => !['cpu', 'memory', 'ephemeral-storage'].includes(n)).sort()];
  for (const name of order) {
    const want = requested[name];
    if (!want || deviceManaged(name)) continue;
    const capacity = allocatable[name] ?? 0;
    const inUse = used[name] ?? 0;
    if (inUse + want > capacity) {
      return rejected(`OutOf${name}`, `Node didn't have enough resource: ${name}, requested: ${want}, used: ${inUse}, capacity: ${capacity}`);
    }
  }

  if (!podMatchesNode(pod, node)) {
    return rejected('NodeAffinity', "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector");
  }
  const conflict = hostPortConflict(pod, admittedPods);
  if (conflict) {
    return rejected('NodePorts', `Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports (${conflict.protocol}/${conflict.port})`);
  }
  return { admitted: true };
}
