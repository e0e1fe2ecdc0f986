// Original file: src/cri/proto/runtime.proto

import type { PodIP as _runtime_v1_PodIP, PodIP__Output as _runtime_v1_PodIP__Output } from '../../runtime/v1/PodIP.ts';

export interface PodSandboxNetworkStatus {
  /**
   * primary IP
   */
  'ip'?: (string);
  /**
   * e.g. the IPv6 address of a dual-stack pod
   */
  'additionalIps'?: (_runtime_v1_PodIP)[];
}

export interface PodSandboxNetworkStatus__Output {
  /**
   * primary IP
   */
  'ip': (string);
  /**
   * e.g. the IPv6 address of a dual-stack pod
   */
  'additionalIps': (_runtime_v1_PodIP__Output)[];
}
