// Original file: src/cri/proto/runtime.proto


/**
 * Registry credentials (from imagePullSecrets or the node's config).
 */
export interface AuthConfig {
  'username'?: (string);
  'password'?: (string);
  /**
   * base64 "user:password"
   */
  'auth'?: (string);
  'serverAddress'?: (string);
  'identityToken'?: (string);
  'registryToken'?: (string);
}

/**
 * Registry credentials (from imagePullSecrets or the node's config).
 */
export interface AuthConfig__Output {
  'username': (string);
  'password': (string);
  /**
   * base64 "user:password"
   */
  'auth': (string);
  'serverAddress': (string);
  'identityToken': (string);
  'registryToken': (string);
}
