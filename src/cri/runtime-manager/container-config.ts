// ContainerConfig for CreateContainer, as the kubelet's generateContainerConfig: identity and
// attempt, image, command/args/env with $(VAR) expansion, working dir, mounts (the
// termination-message file, what device plugins ask for, the pod's volumes, the managed /etc/hosts), devices and CDI names, the log
// path, Linux resources and security context, labels and annotations.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerConfig, Mount } from '../types.ts';
import type { ContainerDeviceOptions } from '../../device/container-devices.ts';
import { containerEnv, expandCommand, type EnvSources } from './container-env.ts';
import { containerAnnotations, containerLabels, DEFAULT_TERMINATION_MESSAGE_PATH } from './labels.ts';
import { containerResources } from './resources.ts';
import { containerSecurityContext, type ImageUser } from './security-context.ts';
import { criMountOf } from './volume-mounts.ts';
import { ETC_HOSTS_CONTAINER_PATH } from './etc-hosts.ts';
import type { VolumeMount } from '../../volume/pod-volumes.ts';

export interface ContainerConfigInput {
  pod: V1Pod;
  container: V1Container;
  attempt: number;
  /** Image id the runtime resolved (kubelet passes the id, keeping the user's name beside it). */
  imageRef: string;
  imageUser: ImageUser;
  /** Host file bind-mounted at terminationMessagePath. */
  terminationMessageHostPath: string;
  devices: ContainerDeviceOptions | undefined;
  allowPrivileged: boolean;
  /** Join this container's process namespace (an ephemeral container's targetContainerName). */
  pidTargetId?: string;
  env: EnvSources;
  /** The container's volume mounts, from its resolved env (subPathExpr expands against it). */
  volumeMounts?: (env: ReadonlyArray<{ key: string; value: string }>) => Promise<VolumeMount[]>;
  /** Host path of the pod's managed hosts file, bind-mounted at /etc/hosts; absent: not mounted. */
  etcHostsHostPath?: string;
}

/** "<name>/<attempt>.log", relative to the sandbox's log directory (kubelet convention). */
export function containerLogPath(name: string, attempt: number): string {
  return `${name}/${attempt}.log`;
}

export async function buildContainerConfig(input: ContainerConfigInput): Promise<ContainerConfig> {
  const { pod, container, attempt, devices } = input;
  const env = await containerEnv(pod, container, input.env);
  for (const [key, value] of Object.entries(devices?.envs ?? {})) env.push({ key, value });
  const mounts: Mount[] = [
    { containerPath: container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH, hostPath: input.terminationMessageHostPath, readonly: false },
    ...(devices?.mounts ?? []).map(m => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readOnly })),
    ...(input.volumeMounts ? await input.volumeMounts(env) : []).map(criMountOf),
    // Writable, as the kubelet mounts it: programs in the container may add entries.
    ...(input.etcHostsHostPath ? [{ containerPath: ETC_HOSTS_CONTAINER_PATH, hostPath: input.etcHostsHostPath, readonly: false }] : []),
  ];
  return {
    metadata: { name: container.name, attempt },
    image: { image: input.imageRef, userSpecifiedImage: container.image ?? '' },
    command: expandCommand(container.command, env),
    args: expandCommand(container.args, env),
    workingDir: container.workingDir ?? '',
    envs: env,
    mounts,
    devices: (devices?.devices ?? []).map(d => ({ containerPath: d.containerPath, hostPath: d.hostPath, permissions: d.permissions })),
    CDIDevices: (devices?.cdiDevices ?? []).map(name => ({ name })),
    labels: containerLabels(pod, container),
    annotations: { ...(devices?.annotations ?? {}), ...containerAnnotations(pod, container, attempt) },
    logPath: containerLogPath(container.name, attempt),
    stdin: container.stdin === true,
    stdinOnce: container.stdinOnce === true,
    tty: container.tty === true,
    linux: {
      resources: containerResources(pod, container),
      securityContext: containerSecurityContext(pod, container, input.imageUser, input.allowPrivileged, input.pidTargetId),
    },
  };
}
