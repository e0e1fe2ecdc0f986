// Service-account tokens as kube-apiserver issues and checks them: ES256 JWTs signed with a
// key of this server's own, kube's claims (iss, sub, aud, exp, iat, nbf, jti and the
// kubernetes.io claim naming the namespace, the service account and any bound pod or node),
// and on every use a check that what the token names still exists with the same uid.
import { createPublicKey, createHash, randomUUID } from 'node:crypto';
import { errors as joseErrors, exportSPKI, generateKeyPair, jwtVerify, decodeJwt, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { resourceKey, resourceTypes } from '../registry.ts';
import type { KubeObject, ObjectStore } from '../store.ts';
import type { UserInfo } from './attributes.ts';

export const defaultIssuer = 'https://kubernetes.default.svc.cluster.local';
export const defaultExpirationSeconds = 3600;
/** Bound objects may be gone this long before their tokens stop working (go-jose's default leeway). */
const deletionLeewayMs = 60_000;

export interface TokenClaimsRequest {
  serviceAccount: KubeObject;
  audiences: string[];
  expirationSeconds: number;
  pod?: KubeObject;
  node?: KubeObject;
}

export interface IssuedToken { token: string; expirationTimestamp: string }

export interface AuthenticatedToken { user: UserInfo; audiences: string[] }

/** A token this server issued that no longer authenticates; the message says why, as kube's does. */
export class TokenRejected extends Error {}

interface KubernetesClaim {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
}

const keyOf = (plural: string) => resourceKey(resourceTypes.find((t) => t.plural === plural && !t.group)!);
const goQuoted = (list: string[]) => `[${list.map((a) => JSON.stringify(a)).join(' ')}]`;

export class ServiceAccountTokens {
  private constructor(
    private readonly store: ObjectStore,
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly keyId: string,
    readonly issuer: string,
  ) {}

  static async create(store: ObjectStore, issuer = defaultIssuer): Promise<ServiceAccountTokens> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    // kube's key id: the unpadded base64url SHA-256 of the public key's DER encoding.
    const der = createPublicKey(await exportSPKI(publicKey)).export({ type: 'spki', format: 'der' });
    const keyId = createHash('sha256').update(der).digest('base64url');
    return new ServiceAccountTokens(store, privateKey, publicKey, keyId, issuer);
  }

  async issue(request: TokenClaimsRequest, now = new Date()): Promise<IssuedToken> {
    const sa = request.serviceAccount.metadata;
    const claim: KubernetesClaim = { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid } };
    if (request.pod) claim.pod = { name: request.pod.metadata.name, uid: request.pod.metadata.uid };
    if (request.node) claim.node = { name: request.node.metadata.name, uid: request.node.metadata.uid };
    const issuedAt = Math.floor(now.getTime() / 1000);
    const expiresAt = issuedAt + request.expirationSeconds;
    const token = await new SignJWT({ 'kubernetes.io': claim })
      .setProtectedHeader({ alg: 'ES256', kid: this.keyId })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${sa.namespace}:${sa.name}`)
      .setAudience(request.audiences)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(this.privateKey);
    return { token, expirationTimestamp: new Date(expiresAt * 1000).toISOString().replace(/\.\d+Z$/, 'Z') };
  }

  /**
   * The user a token names, valid for some of `audiences` (the issuer when none are asked for);
   * undefined for a token this server did not issue; TokenRejected when it did but the token fails.
   */
  async authenticate(token: string, audiences: string[] = [this.issuer]): Promise<AuthenticatedToken | undefined> {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return undefined;
    }
    if (unverified.iss !== this.issuer) return undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey, { issuer: this.issuer, algorithms: ['ES256'], clockTolerance: 60 }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new TokenRejected('service account token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf') throw new TokenRejected('service account token is not valid yet');
      throw new TokenRejected('go-jose/go-jose: error in cryptographic primitive');
    }
    const tokenAudiences = typeof payload.aud === 'string' ? [payload.aud] : payload.aud ?? [];
    const granted = tokenAudiences.filter((a) => audiences.includes(a));
    if (granted.length === 0) throw new TokenRejected(`token audiences ${goQuoted(tokenAudiences)} is invalid for the target audiences ${goQuoted(audiences)}`);
    const claim = payload['kubernetes.io'] as KubernetesClaim | undefined;
    if (!claim?.namespace || !claim.serviceaccount?.name) throw new TokenRejected('service account token claims could not be validated due to unexpected private claim');
    this.checkStillBound(claim);

    const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${payload.jti ?? ''}`] };
    if (claim.pod) Object.assign(extra, { 'authentication.kubernetes.io/pod-name': [claim.pod.name], 'authentication.kubernetes.io/pod-uid': [claim.pod.uid] });
    if (claim.node) Object.assign(extra, { 'authentication.kubernetes.io/node-name': [claim.node.name], 'authentication.kubernetes.io/node-uid': [claim.node.uid] });
    return {
      user: {
        name: `system:serviceaccount:${claim.namespace}:${claim.serviceaccount.name}`,
        uid: claim.serviceaccount.uid,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${claim.namespace}`],
        extra,
      },
      audiences: granted,
    };
  }

  /** The service account, and the pod or node the token is bound to, must still be the ones it was issued for. */
  private checkStillBound(claim: KubernetesClaim): void {
    const sa = this.store.get(keyOf('serviceaccounts'), claim.namespace, claim.serviceaccount.name);
    if (!sa) throw new TokenRejected(`serviceaccounts "${claim.serviceaccount.name}" not found`);
    if (sa.metadata.uid !== claim.serviceaccount.uid) {
      throw new TokenRejected(`service account UID (${sa.metadata.uid}) does not match claim (${claim.serviceaccount.uid})`);
    }
    if (claim.pod) {
      const pod = this.store.get(keyOf('pods'), claim.namespace, claim.pod.name);
      if (!pod || deletedLongAgo(pod)) throw new TokenRejected('service account token has been invalidated');
      if (pod.metadata.uid !== claim.pod.uid) throw new TokenRejected(`pod UID (${pod.metadata.uid}) does not match service account pod ref claim (${claim.pod.uid})`);
    }
    if (claim.node) {
      const node = this.store.get(keyOf('nodes'), '', claim.node.name);
      if (!node || deletedLongAgo(node)) throw new TokenRejected('service account token has been invalidated');
      if (node.metadata.uid !== claim.node.uid) throw new TokenRejected(`node UID (${node.metadata.uid}) does not match service account node ref claim (${claim.node.uid})`);
    }
  }
}

function deletedLongAgo(obj: KubeObject): boolean {
  const at = obj.metadata.deletionTimestamp;
  return !!at && Date.parse(at) < Date.now() - deletionLeewayMs;
}
