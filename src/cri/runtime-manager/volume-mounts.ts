// A container's volume mounts in CRI's words: the volume room hands over runtime-neutral
// VolumeMounts; here they become CRI Mounts (propagation as the kubelet maps it).
import type { Mount } from '../types.ts';
import type { VolumeMount } from '../../volume/pod-volumes.ts';

const propagationOf: Record<VolumeMount['propagation'], NonNullable<Mount['propagation']>> = {
  None: 'PROPAGATION_PRIVATE',
  HostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  Bidirectional: 'PROPAGATION_BIDIRECTIONAL',
};

export function criMountOf(m: VolumeMount): Mount {
  return { containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readOnly, propagation: propagationOf[m.propagation] };
}
