// Original file: src/cri/proto/runtime.proto

import type { RuntimeHandlerFeatures as _runtime_v1_RuntimeHandlerFeatures, RuntimeHandlerFeatures__Output as _runtime_v1_RuntimeHandlerFeatures__Output } from '../../runtime/v1/RuntimeHandlerFeatures.ts';

export interface RuntimeHandler {
  /**
   * "" is the default handler
   */
  'name'?: (string);
  'features'?: (_runtime_v1_RuntimeHandlerFeatures | null);
}

export interface RuntimeHandler__Output {
  /**
   * "" is the default handler
   */
  'name': (string);
  'features': (_runtime_v1_RuntimeHandlerFeatures__Output | null);
}
