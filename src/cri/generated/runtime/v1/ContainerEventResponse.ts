// Original file: src/cri/proto/runtime.proto

import type { ContainerEventType as _runtime_v1_ContainerEventType, ContainerEventType__Output as _runtime_v1_ContainerEventType__Output } from '../../runtime/v1/ContainerEventType.ts';
import type { PodSandboxStatus as _runtime_v1_PodSandboxStatus, PodSandboxStatus__Output as _runtime_v1_PodSandboxStatus__Output } from '../../runtime/v1/PodSandboxStatus.ts';
import type { ContainerStatus as _runtime_v1_ContainerStatus, ContainerStatus__Output as _runtime_v1_ContainerStatus__Output } from '../../runtime/v1/ContainerStatus.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * One change. Sandboxes have events too: container_id is then the sandbox's own id. The
 * statuses are the sandbox's and all its containers' right after the change (the sandbox may
 * be missing from a DELETED event once it is gone).
 */
export interface ContainerEventResponse {
  'containerId'?: (string);
  'containerEventType'?: (_runtime_v1_ContainerEventType);
  /**
   * nanoseconds since the epoch
   */
  'createdAt'?: (number | string | Long);
  'podSandboxStatus'?: (_runtime_v1_PodSandboxStatus | null);
  'containersStatuses'?: (_runtime_v1_ContainerStatus)[];
}

/**
 * One change. Sandboxes have events too: container_id is then the sandbox's own id. The
 * statuses are the sandbox's and all its containers' right after the change (the sandbox may
 * be missing from a DELETED event once it is gone).
 */
export interface ContainerEventResponse__Output {
  'containerId': (string);
  'containerEventType': (_runtime_v1_ContainerEventType__Output);
  /**
   * nanoseconds since the epoch
   */
  'createdAt': (number);
  'podSandboxStatus': (_runtime_v1_PodSandboxStatus__Output | null);
  'containersStatuses': (_runtime_v1_ContainerStatus__Output)[];
}
