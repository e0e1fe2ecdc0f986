// The review kinds, answered at once and never stored, as kube-apiserver does:
// TokenReview (does this token authenticate, and as whom), SelfSubjectReview (who am I),
// SubjectAccessReview, SelfSubjectAccessReview and LocalSubjectAccessReview (may this user
// do this). Each answer is the request with its spec echoed and a status filled in.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, invalid, methodNotAllowed, type FieldError } from './errors.ts';
import { mediaTypeOf, parseBody, readBody, sendJson } from './http-io.ts';
import { apiVersionOf, type ResourceType } from './registry.ts';
import type { ResourceRoute } from './routes.ts';
import type { Authorizer, RequestAttributes, UserInfo } from './auth/attributes.ts';
import { withAuthenticatedGroup } from './auth/authenticator.ts';
import { TokenRejected, type ServiceAccountTokens } from './auth/service-account-tokens.ts';
import type { RequestAuthenticator } from './auth/authenticator.ts';

type Review = Record<string, any>;

interface ResourceAttributesSpec { namespace?: string; verb?: string; group?: string; version?: string; resource?: string; subresource?: string; name?: string }
interface NonResourceAttributesSpec { path?: string; verb?: string }

export class Reviews {
  constructor(
    private readonly tokens: ServiceAccountTokens, private readonly authorizer: Authorizer,
    /** Every kind of bearer token the server takes (bootstrap tokens too), as kube's TokenReview uses its whole chain. */
    private readonly bearerTokens: Pick<RequestAuthenticator, 'authenticateToken'>,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, user: UserInfo): Promise<void> {
    const { type } = route;
    if (req.method !== 'POST' || route.name !== undefined) throw methodNotAllowed();
    const review = await this.body(req, type);
    const spec: Review = isObject(review.spec) ? review.spec : {};
    let status: Review;
    switch (type.kind) {
      case 'TokenReview': status = await this.tokenReview(spec); break;
      case 'SelfSubjectReview': status = { userInfo: userInfoOf(user) }; break;
      case 'SubjectAccessReview': status = this.subjectAccessReview(type, spec); break;
      case 'SelfSubjectAccessReview': status = this.access(type, spec, user); break;
      case 'LocalSubjectAccessReview': status = this.localSubjectAccessReview(type, spec, route.namespace ?? ''); break;
      default: throw methodNotAllowed();
    }
    const metadata = { ...(isObject(review.metadata) ? review.metadata : {}), creationTimestamp: null };
    sendJson(res, 201, { kind: type.kind, apiVersion: apiVersionOf(type), metadata, spec, status });
  }

  private async tokenReview(spec: Review): Promise<Review> {
    if (typeof spec.token !== 'string' || !spec.token) throw badRequest('token is required for TokenReview in authentication');
    const asked: string[] = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences.map(String) : [this.tokens.issuer];
    try {
      const answer = await this.bearerTokens.authenticateToken(spec.token, asked);
      if (!answer) return { authenticated: false, user: {}, error: 'invalid bearer token' };
      return { authenticated: true, user: userInfoOf(withAuthenticatedGroup(answer.user)), audiences: answer.audiences };
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      return { authenticated: false, user: {}, error: `[invalid bearer token, ${err.message}]` };
    }
  }

  private subjectAccessReview(type: ResourceType, spec: Review): Review {
    const errors = attributeErrors(spec);
    if (!spec.user && !(Array.isArray(spec.groups) && spec.groups.length)) {
      errors.push({ type: 'Invalid', field: 'spec.user', value: '', detail: 'at least one of user or group must be specified' });
    }
    if (errors.length) throw invalid(qualifiedKind(type), '', '', errors);
    const subject: UserInfo = { name: String(spec.user ?? ''), uid: spec.uid, groups: (spec.groups ?? []).map(String), extra: extraOf(spec.extra) };
    return this.decide(subject, spec);
  }

  private access(type: ResourceType, spec: Review, user: UserInfo): Review {
    const errors = attributeErrors(spec);
    if (errors.length) throw invalid(qualifiedKind(type), '', '', errors);
    return this.decide(user, spec);
  }

  private localSubjectAccessReview(type: ResourceType, spec: Review, namespace: string): Review {
    if (spec.nonResourceAttributes) {
      throw invalid(qualifiedKind(type), '', '', [{ type: 'Invalid', field: 'spec.nonResourceAttributes', value: spec.nonResourceAttributes, detail: 'disallowed on this kind of request' }]);
    }
    if (!isObject(spec.resourceAttributes) || spec.resourceAttributes.namespace !== namespace) {
      throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
    }
    return this.subjectAccessReview(type, spec);
  }

  private decide(user: UserInfo, spec: Review): Review {
    const result = this.authorizer.authorize(attributesOf(user, spec));
    return {
      allowed: result.decision === 'allow',
      ...(result.decision === 'deny' ? { denied: true } : {}),
      ...(result.reason ? { reason: result.reason } : {}),
    };
  }

  private async body(req: IncomingMessage, type: ResourceType): Promise<Review> {
    const what = `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}`;
    const body = parseBody(await readBody(req), mediaTypeOf(req), what);
    if (!isObject(body)) throw badRequest(`${what}: the body is not a JSON object`);
    if (body.kind !== undefined && body.kind !== type.kind) throw badRequest(`${what}: the kind of the object does not match the resource`);
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(type)) {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(type)})`);
    }
    return body;
  }
}

function isObject(v: unknown): v is Review {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function qualifiedKind(type: ResourceType): string {
  return `${type.kind}.${type.group}`;
}

function attributeErrors(spec: Review): FieldError[] {
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  if (!resource && !nonResource) {
    return [{ type: 'Invalid', field: 'spec.resourceAttributes', value: 'null', detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified' }];
  }
  if (resource && nonResource) {
    return [{ type: 'Invalid', field: 'spec.nonResourceAttributes', value: nonResource, detail: 'cannot be specified in combination with resourceAttributes' }];
  }
  return [];
}

function attributesOf(user: UserInfo, spec: Review): RequestAttributes {
  const base = { user, path: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  if (isObject(spec.nonResourceAttributes)) {
    const n = spec.nonResourceAttributes as NonResourceAttributesSpec;
    return { ...base, verb: String(n.verb ?? ''), resourceRequest: false, path: String(n.path ?? '') };
  }
  const r = (spec.resourceAttributes ?? {}) as ResourceAttributesSpec;
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return {
    ...base, verb: text(r.verb), resourceRequest: true, apiGroup: text(r.group), apiVersion: text(r.version), resource: text(r.resource),
    subresource: text(r.subresource), namespace: text(r.namespace), name: text(r.name),
  };
}

/** spec.extra as JSON carries it (lists of strings); protobuf wraps each list as {items}. */
function extraOf(extra: unknown): Record<string, string[]> | undefined {
  if (!isObject(extra)) return undefined;
  return Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, (Array.isArray(v) ? v : isObject(v) && Array.isArray(v.items) ? v.items : []).map(String)]));
}

function userInfoOf(user: UserInfo): Review {
  return {
    username: user.name,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: user.groups,
    ...(user.extra && Object.keys(user.extra).length ? { extra: user.extra } : {}),
  };
}
