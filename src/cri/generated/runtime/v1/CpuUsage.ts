// Original file: src/cri/proto/runtime.proto

import type { UInt64Value as _runtime_v1_UInt64Value, UInt64Value__Output as _runtime_v1_UInt64Value__Output } from '../../runtime/v1/UInt64Value.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * timestamp: nanoseconds since the epoch when the figures were read.
 */
export interface CpuUsage {
  'timestamp'?: (number | string | Long);
  /**
   * Cumulative CPU time over all cores since the container started, in nanoseconds.
   */
  'usageCoreNanoSeconds'?: (_runtime_v1_UInt64Value | null);
  /**
   * The runtime's own rate over its last sample window, if it keeps one.
   */
  'usageNanoCores'?: (_runtime_v1_UInt64Value | null);
}

/**
 * timestamp: nanoseconds since the epoch when the figures were read.
 */
export interface CpuUsage__Output {
  'timestamp': (number);
  /**
   * Cumulative CPU time over all cores since the container started, in nanoseconds.
   */
  'usageCoreNanoSeconds': (_runtime_v1_UInt64Value__Output | null);
  /**
   * The runtime's own rate over its last sample window, if it keeps one.
   */
  'usageNanoCores': (_runtime_v1_UInt64Value__Output | null);
}
