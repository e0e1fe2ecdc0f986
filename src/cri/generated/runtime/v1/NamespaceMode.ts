// Original file: src/cri/proto/runtime.proto

export const NamespaceMode = {
  /**
   * shared by the pod's containers
   */
  POD: 'POD',
  /**
   * private to one container
   */
  CONTAINER: 'CONTAINER',
  /**
   * the host's namespace
   */
  NODE: 'NODE',
  /**
   * another container's namespace (target_id)
   */
  TARGET: 'TARGET',
} as const;

export type NamespaceMode =
  /**
   * shared by the pod's containers
   */
  | 'POD'
  | 0
  /**
   * private to one container
   */
  | 'CONTAINER'
  | 1
  /**
   * the host's namespace
   */
  | 'NODE'
  | 2
  /**
   * another container's namespace (target_id)
   */
  | 'TARGET'
  | 3

export type NamespaceMode__Output = typeof NamespaceMode[keyof typeof NamespaceMode]
