// serviceaccounts/<name>/token (TokenRequest, `kubectl create token`): a signed token for an
// existing service account, for the audiences and lifetime asked (default: the issuer, one
// hour; never under ten minutes), optionally bound to a pod (and so to its node) or a node,
// so that it stops working when that object goes.
import { badRequest, conflict, invalid, methodNotAllowed } from './errors.ts';
import { mediaTypeOf, parseBody, readBody, sendJson } from './http-io.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resourceTypes } from './registry.ts';
import type { ResourceService } from './resources.ts';
import type { KubeObject } from './store.ts';
import type { UserInfo } from './auth/attributes.ts';
import { defaultExpirationSeconds, type ServiceAccountTokens } from './auth/service-account-tokens.ts';
import { admitWrite } from './auth/write-admission.ts';

/** kube-apiserver's floor for a token's lifetime. */
export const defaultMinExpirationSeconds = 600;
const maxExpirationSeconds = 2 ** 32;
const tokenRequestApiVersion = 'authentication.k8s.io/v1';
const typeOf = (plural: string) => resourceTypes.find((t) => t.plural === plural && !t.group)!;

export class TokenRequests {
  constructor(
    private readonly resources: ResourceService,
    private readonly tokens: ServiceAccountTokens,
    /** Lowered only by tests that watch a token be refreshed in seconds rather than minutes. */
    private readonly minExpirationSeconds = defaultMinExpirationSeconds,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, namespace: string, name: string, user: UserInfo): Promise<void> {
    if (req.method !== 'POST') throw methodNotAllowed();
    const what = 'TokenRequest in version "v1" cannot be handled as a TokenRequest';
    const body = parseBody(await readBody(req), mediaTypeOf(req), what) as Record<string, any>;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`${what}: the body is not a JSON object`);
    if (body.apiVersion !== undefined && body.apiVersion !== tokenRequestApiVersion) {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${tokenRequestApiVersion})`);
    }
    const serviceAccount = this.resources.get(typeOf('serviceaccounts'), namespace, name);
    admitWrite(user, { verb: 'create', type: typeOf('serviceaccounts'), namespace, name, subresource: 'token', incoming: body as KubeObject, existing: serviceAccount }, this.resources.store);

    const spec = body.spec ?? {};
    const expirationSeconds = spec.expirationSeconds ?? defaultExpirationSeconds;
    if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds)) throw badRequest(`${what}: spec.expirationSeconds must be an integer`);
    if (expirationSeconds < this.minExpirationSeconds || expirationSeconds > maxExpirationSeconds) {
      const detail = expirationSeconds < this.minExpirationSeconds
        ? `may not specify a duration less than ${this.minExpirationSeconds === defaultMinExpirationSeconds ? '10 minutes' : `${this.minExpirationSeconds} seconds`}`
        : 'may not specify a duration larger than 2^32 seconds';
      throw invalid('TokenRequest.authentication.k8s.io', '', name, [{ type: 'Invalid', field: 'spec.expirationSeconds', value: expirationSeconds, detail }]);
    }
    const audiences: string[] = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences.map(String) : [this.tokens.issuer];
    const bound = this.boundObjects(spec.boundObjectRef, name, namespace);
    const issued = await this.tokens.issue({ serviceAccount, audiences, expirationSeconds, ...bound });
    sendJson(res, 201, {
      kind: 'TokenRequest',
      apiVersion: tokenRequestApiVersion,
      metadata: { name, namespace, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z') },
      spec: { audiences, expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
      status: issued,
    });
  }

  /** The pod (with its node) or node a token is bound to; kube's checks on the reference. */
  private boundObjects(ref: any, saName: string, namespace: string): { pod?: KubeObject; node?: KubeObject } {
    if (ref === undefined || ref === null) return {};
    const kind = ref.kind;
    let obj: KubeObject;
    if (kind === 'Pod') obj = this.resources.get(typeOf('pods'), namespace, String(ref.name ?? ''));
    else if (kind === 'Node') obj = this.resources.get(typeOf('nodes'), '', String(ref.name ?? ''));
    else throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(saName)} to object of kind ${JSON.stringify(String(kind))}`);
    if (ref.uid && ref.uid !== obj.metadata.uid) {
      throw conflict('tokenrequests', 'authentication.k8s.io', saName,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    if (kind === 'Node') return { node: obj };
    if ((obj.spec?.serviceAccountName ?? 'default') !== saName) {
      throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(saName)} to pod running with different serviceaccount name.`);
    }
    const nodeName = obj.spec?.nodeName;
    const node = nodeName ? this.resources.store.get('nodes', '', nodeName) : undefined;
    return { pod: obj, ...(node ? { node } : {}) };
  }
}
