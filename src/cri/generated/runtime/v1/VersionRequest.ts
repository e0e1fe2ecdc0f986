// Original file: src/cri/proto/runtime.proto


export interface VersionRequest {
  /**
   * the CRI version the client speaks
   */
  'version'?: (string);
}

export interface VersionRequest__Output {
  /**
   * the CRI version the client speaks
   */
  'version': (string);
}
