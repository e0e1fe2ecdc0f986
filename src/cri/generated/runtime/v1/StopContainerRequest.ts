// Original file: src/cri/proto/runtime.proto

import type { Long } from '@grpc/proto-loader';

export interface StopContainerRequest {
  'containerId'?: (string);
  /**
   * seconds of grace before SIGKILL; 0 kills at once
   */
  'timeout'?: (number | string | Long);
}

export interface StopContainerRequest__Output {
  'containerId': (string);
  /**
   * seconds of grace before SIGKILL; 0 kills at once
   */
  'timeout': (number);
}
