// Original file: src/cri/proto/runtime.proto


/**
 * A command in a running container with its streams; with tty, stderr is merged into stdout.
 */
export interface ExecRequest {
  'containerId'?: (string);
  'cmd'?: (string)[];
  'tty'?: (boolean);
  'stdin'?: (boolean);
  'stdout'?: (boolean);
  'stderr'?: (boolean);
}

/**
 * A command in a running container with its streams; with tty, stderr is merged into stdout.
 */
export interface ExecRequest__Output {
  'containerId': (string);
  'cmd': (string)[];
  'tty': (boolean);
  'stdin': (boolean);
  'stdout': (boolean);
  'stderr': (boolean);
}
