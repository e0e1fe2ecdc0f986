// A container's volumeMounts as runtime-neutral bind mounts: the volume's host path (or its
// subpath), read-only when the mount or the claim says so or the volume carries API data, and the mount propagation the
// kubelet allows (Bidirectional only for privileged containers).
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { ContainerMountError, type ReadyVolumes, type VolumeMount } from './pod-volumes.ts';
import { effectiveSubPath, resolveSubPath } from './sub-path.ts';

/** The kubelet mounts volumes that carry API data read-only, whatever the volumeMount says. */
function isApiDataVolume(volume: V1Volume): boolean {
  return Boolean(volume.configMap || volume.secret || volume.downwardAPI || volume.projected);
}

const PROPAGATIONS = new Set<VolumeMount['propagation']>(['None', 'HostToContainer', 'Bidirectional']);

export async function containerMounts(pod: V1Pod, container: V1Container, volumes: ReadyVolumes, env: ReadonlyArray<{ key: string; value: string }>): Promise<VolumeMount[]> {
  const mounts: VolumeMount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const volume = pod.spec?.volumes?.find(v => v.name === vm.name);
    const volumePath = volumes.paths.get(vm.name);
    if (!volume || !volumePath) throw new ContainerMountError(`cannot find volume "${vm.name}" to mount into container "${container.name}"`);

    // Recursive read-only needs a runtime that offers it (CRI RuntimeHandlerFeatures); none here
    // does. IfPossible falls back to a plain read-only mount, as the kubelet's does; Enabled is refused.
    if (vm.recursiveReadOnly === 'Enabled') {
      throw new ContainerMountError(`volume "${vm.name}" of container "${container.name}" requested recursive read-only mode, but it is not supported by the runtime`);
    }
    const propagation = (vm.mountPropagation ?? 'None') as VolumeMount['propagation'];
    if (!PROPAGATIONS.has(propagation)) throw new ContainerMountError(`invalid mountPropagation "${vm.mountPropagation}" for volume "${vm.name}" of container "${container.name}"`);
    if (propagation === 'Bidirectional' && !container.securityContext?.privileged) {
      throw new ContainerMountError(`volume "${vm.name}" of container "${container.name}": Bidirectional mount propagation is available only to privileged containers`);
    }

    let hostPath = volumePath;
    const subPath = effectiveSubPath(vm, env);
    if (subPath) {
      try {
        hostPath = await resolveSubPath(volumePath, subPath);
      } catch (err) {
        if (err instanceof ContainerMountError) throw err;
        throw new ContainerMountError(`failed to prepare subPath for volumeMount "${vm.name}" of container "${container.name}": ${(err as Error).message}`, { cause: err });
      }
    }
    mounts.push({
      containerPath: vm.mountPath,
      hostPath,
      readOnly: Boolean(vm.readOnly || volume.persistentVolumeClaim?.readOnly || isApiDataVolume(volume)),
      propagation,
    });
  }
  return mounts;
}
