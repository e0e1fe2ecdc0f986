// Original file: src/cri/proto/runtime.proto

import type { PodSandboxState as _runtime_v1_PodSandboxState, PodSandboxState__Output as _runtime_v1_PodSandboxState__Output } from '../../runtime/v1/PodSandboxState.ts';

/**
 * A wrapper so that "no state filter" differs from "state SANDBOX_READY" (= 0).
 */
export interface PodSandboxStateValue {
  'state'?: (_runtime_v1_PodSandboxState);
}

/**
 * A wrapper so that "no state filter" differs from "state SANDBOX_READY" (= 0).
 */
export interface PodSandboxStateValue__Output {
  'state': (_runtime_v1_PodSandboxState__Output);
}
