// LinuxContainerSecurityContext from the pod's and the container's securityContext (the
// container's wins), with the kubelet's checks that fail the container before it is created:
// privileged containers need --allow-privileged, and runAsNonRoot needs a known non-root user.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { LinuxContainerSecurityContext } from '../types.ts';
import { ContainerConfigError } from './container-env.ts';

// The paths the kubelet masks or makes read-only in /proc and /sys unless the container is
// privileged or asks for an unmasked /proc.
const MASKED_PATHS = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The image's user as ImageStatus reports it. */
export interface ImageUser {
  uid?: number;
  username: string;
}

export function containerSecurityContext(pod: V1Pod, container: V1Container, imageUser: ImageUser, allowPrivileged: boolean, pidTargetId?: string): LinuxContainerSecurityContext {
  const podSc = pod.spec?.securityContext ?? {};
  const sc = container.securityContext ?? {};
  const privileged = sc.privileged === true;
  if (privileged && !allowPrivileged) {
    throw new ContainerConfigError(`pod with UID "${pod.metadata?.uid ?? ''}" specified privileged container, but is disallowed`);
  }
  const runAsUser = sc.runAsUser ?? podSc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? podSc.runAsGroup;
  if (sc.runAsNonRoot ?? podSc.runAsNonRoot) verifyRunAsNonRoot(pod, container, runAsUser, imageUser);

  const spec = pod.spec;
  const unmasked = privileged || sc.procMount === 'Unmasked';
  return {
    privileged,
    namespaceOptions: {
      network: spec?.hostNetwork ? 'NODE' : 'POD',
      // An ephemeral container with a target sees the target's processes (kubectl debug --target).
      pid: spec?.hostPID ? 'NODE' : spec?.shareProcessNamespace ? 'POD' : pidTargetId ? 'TARGET' : 'CONTAINER',
      ipc: spec?.hostIPC ? 'NODE' : 'POD',
      ...(pidTargetId && !spec?.hostPID && !spec?.shareProcessNamespace ? { targetId: pidTargetId } : {}),
    },
    ...(runAsUser !== undefined ? { runAsUser: { value: runAsUser } } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup: { value: runAsGroup } } : {}),
    ...(runAsUser === undefined && imageUser.uid === undefined && imageUser.username ? { runAsUsername: imageUser.username } : {}),
    readonlyRootfs: sc.readOnlyRootFilesystem === true,
    noNewPrivs: sc.allowPrivilegeEscalation === false,
    // The kubelet adds fsGroup: the group that owns the pod's volumes.
    supplementalGroups: [...(podSc.supplementalGroups ?? []), ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : [])],
    capabilities: { addCapabilities: sc.capabilities?.add ?? [], dropCapabilities: sc.capabilities?.drop ?? [] },
    maskedPaths: unmasked ? [] : MASKED_PATHS,
    readonlyPaths: unmasked ? [] : READONLY_PATHS,
  };
}

/** The kubelet's verifyRunAsNonRoot, with its messages. An image without a user runs as root. */
function verifyRunAsNonRoot(pod: V1Pod, container: V1Container, runAsUser: number | undefined, image: ImageUser): void {
  const podRef = `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? 'default'}(${pod.metadata?.uid ?? ''})`;
  if (runAsUser !== undefined) {
    if (runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy (pod: "${podRef}", container: ${container.name})`);
    return;
  }
  if (image.uid === undefined && image.username) {
    throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root (pod: "${podRef}", container: ${container.name})`);
  }
  if ((image.uid ?? 0) === 0) throw new ContainerConfigError(`container has runAsNonRoot and image will run as root (pod: "${podRef}", container: ${container.name})`);
}
