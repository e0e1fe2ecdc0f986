// Original file: src/cri/proto/runtime.proto


export interface DNSConfig {
  'servers'?: (string)[];
  'searches'?: (string)[];
  /**
   * resolv.conf "options" entries
   */
  'options'?: (string)[];
}

export interface DNSConfig__Output {
  'servers': (string)[];
  'searches': (string)[];
  /**
   * resolv.conf "options" entries
   */
  'options': (string)[];
}
