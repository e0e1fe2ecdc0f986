// Original file: src/cri/proto/runtime.proto

import type { Long } from '@grpc/proto-loader';

/**
 * proto3 scalars cannot say "unset"; a wrapper can (run_as_user 0 means root, not absent).
 */
export interface Int64Value {
  'value'?: (number | string | Long);
}

/**
 * proto3 scalars cannot say "unset"; a wrapper can (run_as_user 0 means root, not absent).
 */
export interface Int64Value__Output {
  'value': (number);
}
