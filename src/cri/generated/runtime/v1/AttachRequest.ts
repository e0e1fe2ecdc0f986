// Original file: src/cri/proto/runtime.proto


/**
 * The streams of a container's main process; tty must match how the container was created.
 */
export interface AttachRequest {
  'containerId'?: (string);
  'stdin'?: (boolean);
  'tty'?: (boolean);
  'stdout'?: (boolean);
  'stderr'?: (boolean);
}

/**
 * The streams of a container's main process; tty must match how the container was created.
 */
export interface AttachRequest__Output {
  'containerId': (string);
  'stdin': (boolean);
  'tty': (boolean);
  'stdout': (boolean);
  'stderr': (boolean);
}
