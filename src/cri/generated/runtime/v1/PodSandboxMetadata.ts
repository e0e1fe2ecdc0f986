// Original file: src/cri/proto/runtime.proto


/**
 * Identifies the pod a sandbox belongs to; (uid, attempt) is unique per node.
 */
export interface PodSandboxMetadata {
  'name'?: (string);
  'uid'?: (string);
  'namespace'?: (string);
  'attempt'?: (number);
}

/**
 * Identifies the pod a sandbox belongs to; (uid, attempt) is unique per node.
 */
export interface PodSandboxMetadata__Output {
  'name': (string);
  'uid': (string);
  'namespace': (string);
  'attempt': (number);
}
