// Admission for writes by nodes (NodeRestriction): a kubelet may change only what belongs to
// its own node. Other users pass straight through; RBAC has already allowed the verb.
import type { ResourceType } from '../registry.ts';
import type { KubeObject, ObjectStore } from '../store.ts';
import type { UserInfo } from './attributes.ts';
import { nodeRestriction } from './authorizer-chain.ts';
import { nodeIdentity } from './node-authorizer.ts';

export interface WriteRequest {
  verb: 'create' | 'update' | 'patch' | 'delete';
  type: ResourceType;
  namespace: string;
  name: string;
  subresource?: string;
  incoming?: KubeObject;
  existing?: KubeObject;
}

/** Throws the NodeRestriction refusal for a node's write outside its own objects. */
export function admitWrite(user: UserInfo, w: WriteRequest, store: ObjectStore): void {
  if (!nodeIdentity(user).isNode) return;
  // A body that is no object is refused later with a 400; admission only sees objects.
  const incoming = w.incoming !== null && typeof w.incoming === 'object' && !Array.isArray(w.incoming) ? w.incoming : undefined;
  const refusal = nodeRestriction(user, w.verb, w.type, w.namespace, w.name, w.subresource, incoming, w.existing, store);
  if (refusal) throw refusal;
}
