// Original file: src/cri/proto/runtime.proto

import type { Long } from '@grpc/proto-loader';

export interface HugepageLimit {
  /**
   * e.g. "2MB"
   */
  'pageSize'?: (string);
  'limit'?: (number | string | Long);
}

export interface HugepageLimit__Output {
  /**
   * e.g. "2MB"
   */
  'pageSize': (string);
  'limit': (number);
}
