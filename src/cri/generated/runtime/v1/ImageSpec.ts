// Original file: src/cri/proto/runtime.proto


export interface ImageSpec {
  /**
   * a reference (name:tag, digest) or an image id
   */
  'image'?: (string);
  'annotations'?: ({[key: string]: string});
  /**
   * what the pod spec said, before resolution
   */
  'userSpecifiedImage'?: (string);
  'runtimeHandler'?: (string);
}

export interface ImageSpec__Output {
  /**
   * a reference (name:tag, digest) or an image id
   */
  'image': (string);
  'annotations': ({[key: string]: string});
  /**
   * what the pod spec said, before resolution
   */
  'userSpecifiedImage': (string);
  'runtimeHandler': (string);
}
