// The attribute names the agent's spans carry. The pod's own are OpenTelemetry's semantic names,
// set on each root span: the timeline buffer files a whole trace under the pod its root names.
import type { V1Pod } from '@kubernetes/client-node';

export const POD_UID = 'k8s.pod.uid';
export const POD_NAME = 'k8s.pod.name';
export const POD_NAMESPACE = 'k8s.namespace.name';
export const NODE_NAME = 'k8s.node.name';
export const CONTAINER_NAME = 'k8s.container.name';
export const CONTAINER_ID = 'container.id';
export const IMAGE_NAME = 'container.image.name';
export const IMAGE_REF = 'container.image.id';
export const SANDBOX_ID = 'k8s.sandbox.id';

export interface PodIdentity {
  uid: string;
  name: string;
  namespace: string;
}

export function podIdentityOf(pod: V1Pod): PodIdentity {
  return { uid: pod.metadata?.uid ?? '', name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default' };
}

export function podAttributes(p: PodIdentity): Record<string, string> {
  return { [POD_UID]: p.uid, [POD_NAME]: p.name, [POD_NAMESPACE]: p.namespace };
}
