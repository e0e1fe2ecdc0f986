// The pod's operating system against this node's (always linux here), as the kubelet checks it
// before resources: a kubernetes.io/os pod label naming another OS, or spec.os.name naming one.
import type { V1Pod } from '@kubernetes/client-node';

export const NODE_OS = 'linux';
const OS_LABEL = 'kubernetes.io/os';

export interface OsRejection {
  reason: string;
  message: string;
}

export function podOsRejection(pod: V1Pod): OsRejection | undefined {
  // The kubelet reads the pod's labels here, not its nodeSelector; the node's label is taken as this OS.
  const labelled = pod.metadata?.labels?.[OS_LABEL];
  if (labelled !== undefined && labelled !== NODE_OS) {
    return { reason: 'PodOSSelectorNodeLabelDoesNotMatch', message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label" };
  }
  const os = pod.spec?.os?.name;
  if (os !== undefined && os !== NODE_OS) {
    return { reason: 'PodOSNotSupported', message: "Failed to admit pod as the OS field doesn't match node OS" };
  }
  return undefined;
}
