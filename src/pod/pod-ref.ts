// How a pod is named: in logs ({ pod: "ns/name", uid }), in the kubelet's messages
// ("name_ns(uid)"), and as the key static and mirror pods share ("ns/name").
import type { V1Pod } from '@kubernetes/client-node';

export interface PodRef {
  uid: string;
  name: string;
  namespace: string;
}

export function podRefOf(pod: V1Pod): PodRef {
  return { uid: pod.metadata?.uid ?? '', name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default' };
}

/** "namespace/name". */
export function podFullName(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

/** The fields every log line about a pod carries. */
export function podLogFields(ref: PodRef): { pod: string; uid: string } {
  return { pod: `${ref.namespace}/${ref.name}`, uid: ref.uid };
}

/** "name_namespace(uid)": how the kubelet names a pod in messages. */
export function podDescription(ref: PodRef): string {
  return `${ref.name}_${ref.namespace}(${ref.uid})`;
}
