// Original file: src/cri/proto/runtime.proto


/**
 * (name, attempt) is unique within a sandbox; attempt counts restarts.
 */
export interface ContainerMetadata {
  'name'?: (string);
  'attempt'?: (number);
}

/**
 * (name, attempt) is unique within a sandbox; attempt counts restarts.
 */
export interface ContainerMetadata__Output {
  'name': (string);
  'attempt': (number);
}
