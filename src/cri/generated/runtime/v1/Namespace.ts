// Original file: src/cri/proto/runtime.proto

import type { NamespaceOption as _runtime_v1_NamespaceOption, NamespaceOption__Output as _runtime_v1_NamespaceOption__Output } from '../../runtime/v1/NamespaceOption.ts';

export interface Namespace {
  /**
   * Field 1 (a network namespace path) was removed upstream; its number stays unused.
   */
  'options'?: (_runtime_v1_NamespaceOption | null);
}

export interface Namespace__Output {
  /**
   * Field 1 (a network namespace path) was removed upstream; its number stays unused.
   */
  'options': (_runtime_v1_NamespaceOption__Output | null);
}
