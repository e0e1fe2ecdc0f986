// Original file: src/cri/proto/runtime.proto


export interface CDIDevice {
  /**
   * fully qualified, vendor.com/class=name
   */
  'name'?: (string);
}

export interface CDIDevice__Output {
  /**
   * fully qualified, vendor.com/class=name
   */
  'name': (string);
}
