// What the caller may do, the kubelet's way: the request becomes attributes on the Node object
// (verb from the HTTP method, resource nodes, name = this node, a subresource from the path),
// and an authorizer decides. Webhook mode asks the API server with a SubjectAccessReview per
// distinct question (answers cached: allowed ones longer than denied ones); AlwaysAllow asks
// no one. Paths with a fine-grained subresource (/pods → pods, /healthz → healthz) fall back
// to proxy when the fine-grained one is denied, as kubelet 1.32's KubeletFineGrainedAuthz does.
import type { AccessReviewRequest, AccessReviewResult } from '../../api/kube-api.ts';
import type { AuthorizationMode } from '../../config/agent-config.ts';
import type { RequestUser } from './authenticate.ts';
import { ReviewCache } from './review-cache.ts';

export interface NodeRequestAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
  /** The node's name. */
  name: string;
  apiGroup: '';
  apiVersion: 'v1';
  path: string;
}

export type AuthorizationDecision =
  | { allowed: true; attributes: NodeRequestAttributes }
  /** 403 denied, or 500 when the decision could not be made; `message` is the response body. */
  | { allowed: false; status: 403 | 500; message: string; reason?: string };

export type Authorizer = (user: RequestUser, attributes: NodeRequestAttributes[]) => Promise<AuthorizationDecision>;

/** The kubelet's isSubpath: `subpath` is `path` itself or below it. */
export function isSubpath(subpath: string, path: string): boolean {
  const base = path.endsWith('/') ? path.slice(0, -1) : path;
  return subpath === base || (subpath.startsWith(base) && subpath[base.length] === '/');
}

const verbs: Record<string, string> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/** Paths with their own subresource; no fallback. */
const ownSubresources: Array<[string, string]> = [
  ['/stats', 'stats'], ['/metrics', 'metrics'], ['/logs', 'log'], ['/spec', 'spec'], ['/checkpoint', 'checkpoint'],
];
/** Fine-grained subresources, tried before proxy. */
const fineGrainedSubresources: Array<[string, string]> = [
  ['/pods', 'pods'], ['/runningpods/', 'pods'], ['/healthz', 'healthz'], ['/configz', 'configz'],
];

/** The attributes to authorize, in order; the first one allowed lets the request through. */
export function nodeRequestAttributes(method: string, path: string, nodeName: string): NodeRequestAttributes[] {
  const own = ownSubresources.find(([p]) => isSubpath(path, p));
  const fineGrained = own ? undefined : fineGrainedSubresources.find(([p]) => isSubpath(path, p));
  const subresources = own ? [own[1]] : fineGrained ? [fineGrained[1], 'proxy'] : ['proxy'];
  const verb = verbs[method] ?? '';
  return subresources.map((subresource) => ({ verb, resource: 'nodes', subresource, name: nodeName, apiGroup: '', apiVersion: 'v1', path }));
}

function describe(user: RequestUser, attributes: NodeRequestAttributes[]): string {
  const first = attributes[0];
  return `user=${user.name}, verb=${first.verb}, resource=${first.resource}, subresource(s)=[${attributes.map((a) => a.subresource).join(' ')}]`;
}

/** The kubelet's 403 body, plus the authorizer's reason when it gave one. */
export function forbiddenMessage(user: RequestUser, attributes: NodeRequestAttributes[], reason?: string): string {
  return `Forbidden (${describe(user, attributes)})${reason ? `: ${reason}` : ''}`;
}

export interface AuthorizerOptions {
  mode: AuthorizationMode;
  /** Webhook mode: how to ask; or why no one can be asked (standalone), which denies everything. */
  review?: { reviewAccess: (request: AccessReviewRequest) => Promise<AccessReviewResult>; cacheAuthorizedTtlMs: number; cacheUnauthorizedTtlMs: number } | { unavailable: string };
  /** Called when a review call fails (for the log: the client gets a plain 500). */
  onReviewError?: (err: unknown, attributes: NodeRequestAttributes) => void;
  now?: () => number;
}

export function createAuthorizer(opts: AuthorizerOptions): Authorizer {
  const cache = new ReviewCache<AccessReviewResult>({ now: opts.now });
  if (opts.mode === 'AlwaysAllow') return async (_user, attributes) => ({ allowed: true, attributes: attributes[0] });
  const review = opts.review ?? { unavailable: 'Webhook authorization has no API server to ask' };
  if ('unavailable' in review) {
    return async (user, attributes) => ({ allowed: false, status: 403, message: forbiddenMessage(user, attributes, review.unavailable), reason: review.unavailable });
  }

  return async (user, attributes) => {
    let reason: string | undefined;
    for (const a of attributes) {
      const request: AccessReviewRequest = {
        user: user.name, uid: user.uid, groups: user.groups,
        verb: a.verb, resource: a.resource, subresource: a.subresource, name: a.name, group: a.apiGroup, version: a.apiVersion,
      };
      const key = JSON.stringify([request.user, request.uid ?? '', [...request.groups].sort(), a.verb, a.resource, a.subresource, a.name, a.apiGroup, a.apiVersion]);
      let result = cache.get(key);
      if (!result) {
        try {
          result = await review.reviewAccess(request);
        } catch (err) {
          opts.onReviewError?.(err, a);
          return { allowed: false, status: 500, message: `Authorization error (${describe(user, [a])}): the SubjectAccessReview on the API server failed` };
        }
        cache.set(key, result, result.allowed ? review.cacheAuthorizedTtlMs : review.cacheUnauthorizedTtlMs);
      }
      if (result.allowed) return { allowed: true, attributes: a };
      reason = result.reason || result.evaluationError || reason;
    }
    return { allowed: false, status: 403, message: forbiddenMessage(user, attributes, reason), reason };
  };
}
