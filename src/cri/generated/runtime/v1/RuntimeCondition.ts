// Original file: src/cri/proto/runtime.proto


/**
 * One health condition; RuntimeReady and NetworkReady gate the Node's Ready condition.
 */
export interface RuntimeCondition {
  'type'?: (string);
  'status'?: (boolean);
  'reason'?: (string);
  'message'?: (string);
}

/**
 * One health condition; RuntimeReady and NetworkReady gate the Node's Ready condition.
 */
export interface RuntimeCondition__Output {
  'type': (string);
  'status': (boolean);
  'reason': (string);
  'message': (string);
}
