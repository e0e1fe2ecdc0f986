// kube-apiserver's authorization chain for the dev control plane (--authorization-mode=Node,RBAC):
// members of system:masters may do anything, then the Node authorizer speaks for kubelets, then
// RBAC. The first allow wins; when none allows, the request is denied with the reasons given
// along the way (kube's union authorizer joins them with newlines).
import type { ObjectStore } from '../store.ts';
import type { AuthorizationResult, Authorizer, RequestAttributes } from './attributes.ts';
import { createNodeAuthorizer } from './node-authorizer.ts';
import { createRbacAuthorizer } from './rbac-authorizer.ts';

export { ensureBootstrapPolicy } from './bootstrap-policy.ts';
export { nodeRestriction } from './node-restriction.ts';

export const mastersGroup = 'system:masters';

export function createAuthorizer(store: ObjectStore): Authorizer {
  const masters: Authorizer = {
    authorize: (a) => (a.user.groups.includes(mastersGroup) ? { decision: 'allow', reason: '' } : { decision: 'noOpinion', reason: '' }),
  };
  const chain = [masters, createNodeAuthorizer(store), createRbacAuthorizer(store)];
  return {
    authorize(attrs: RequestAttributes): AuthorizationResult {
      const reasons: string[] = [];
      for (const authorizer of chain) {
        const result = authorizer.authorize(attrs);
        if (result.decision !== 'noOpinion') return result;
        if (result.reason) reasons.push(result.reason);
      }
      return { decision: 'noOpinion', reason: reasons.join('\n') };
    },
  };
}
