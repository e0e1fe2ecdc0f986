// Original file: src/cri/proto/runtime.proto


export interface PullImageResponse {
  /**
   * the image id or digest the runtime resolved
   */
  'imageRef'?: (string);
}

export interface PullImageResponse__Output {
  /**
   * the image id or digest the runtime resolved
   */
  'imageRef': (string);
}
