// Original file: src/cri/proto/runtime.proto


/**
 * Ports of the sandbox's network namespace, reached from the streaming server.
 */
export interface PortForwardRequest {
  'podSandboxId'?: (string);
  'port'?: (number)[];
}

/**
 * Ports of the sandbox's network namespace, reached from the streaming server.
 */
export interface PortForwardRequest__Output {
  'podSandboxId': (string);
  'port': (number)[];
}
