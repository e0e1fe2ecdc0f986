// The line between the agent/runtime manager and device plugins. The agent asks it to admit
// a pod (allocate devices for its extended-resource limits) and the runtime manager asks it,
// just before CreateContainer, what to inject into that container.
import type { V1Pod } from '@kubernetes/client-node';

export interface DeviceSpecForContainer {
  hostPath: string;
  containerPath: string;
  /** cgroup permissions, e.g. "rwm". */
  permissions: string;
}

export interface MountForContainer {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

/** What device plugins asked to put into one container (merged Allocate responses). */
export interface ContainerDeviceOptions {
  devices: DeviceSpecForContainer[];
  mounts: MountForContainer[];
  envs: Record<string, string>;
  annotations: Record<string, string>;
  /** Fully qualified CDI device names, e.g. "vendor.com/class=name". */
  cdiDevices: string[];
}

export type DeviceAdmission = { admitted: true } | { admitted: false; reason: string; message: string };

export interface ContainerDevices {
  /** Allocate devices for every container with extended-resource limits. Idempotent per pod. */
  admit(pod: V1Pod): Promise<DeviceAdmission>;
  /** Options for one container, after PreStartContainer where the plugin asks for it. */
  optionsFor(podUid: string, containerName: string): Promise<ContainerDeviceOptions | undefined>;
  /** Free the pod's devices (the pod is gone or terminal). */
  release(podUid: string): Promise<void>;
  /** Extended resources for Node status: name → [capacity, allocatable]. */
  resources(): Record<string, { capacity: number; allocatable: number }>;
}

/** An agent without device plugins admits everything and injects nothing. */
export const noDevices: ContainerDevices = {
  admit: async () => ({ admitted: true }),
  optionsFor: async () => undefined,
  release: async () => {},
  resources: () => ({}),
};
