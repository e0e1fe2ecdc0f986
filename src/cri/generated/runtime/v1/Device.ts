// Original file: src/cri/proto/runtime.proto


export interface Device {
  'containerPath'?: (string);
  'hostPath'?: (string);
  /**
   * cgroup device permissions, a subset of "rwm"
   */
  'permissions'?: (string);
}

export interface Device__Output {
  'containerPath': (string);
  'hostPath': (string);
  /**
   * cgroup device permissions, a subset of "rwm"
   */
  'permissions': (string);
}
