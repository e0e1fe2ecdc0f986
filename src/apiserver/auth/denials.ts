// The 401 and 403 answers kube-apiserver gives, word for word: "Unauthorized" for a credential
// that does not authenticate, and for a denial the request described from its attributes, with
// the authorizer's reason after a colon.
import { ApiError, qualifiedResource } from '../errors.ts';
import type { RequestAttributes } from './attributes.ts';

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

function deniedAction(a: RequestAttributes): string {
  const who = JSON.stringify(a.user.name);
  if (!a.resourceRequest) return `User ${who} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = JSON.stringify(a.subresource ? `${a.resource}/${a.subresource}` : a.resource);
  const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${who} cannot ${a.verb} resource ${resource} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
}

export function forbiddenRequest(a: RequestAttributes, reason: string): ApiError {
  const why = reason ? `${deniedAction(a)}: ${reason}` : deniedAction(a);
  if (!a.resourceRequest || !a.resource) return new ApiError(403, 'Forbidden', `forbidden: ${why}`, {});
  const target = qualifiedResource(a.resource, a.apiGroup);
  const message = a.name ? `${target} ${JSON.stringify(a.name)} is forbidden: ${why}` : `${target} is forbidden: ${why}`;
  return new ApiError(403, 'Forbidden', message, { name: a.name || undefined, group: a.apiGroup || undefined, kind: a.resource });
}
