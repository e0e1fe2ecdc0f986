// Bootstrap tokens, as kube-apiserver's bootstrap token authenticator reads them: a bearer token
// "<id>.<secret>" names the Secret kube-system/bootstrap-token-<id> (type
// bootstrap.kubernetes.io/token); it authenticates as system:bootstrap:<id> in
// system:bootstrappers (plus its auth-extra-groups) while that Secret exists, its secret
// matches, it allows authentication and it has not expired. This is how a new node proves it
// may ask for its first certificate.
import { timingSafeEqual } from 'node:crypto';
import { resourceKey, resourceTypes } from '../registry.ts';
import type { KubeObject, ObjectStore } from '../store.ts';
import type { UserInfo } from './attributes.ts';
import { TokenRejected } from './service-account-tokens.ts';

export const bootstrapTokenSecretType = 'bootstrap.kubernetes.io/token';
export const bootstrappersGroup = 'system:bootstrappers';
export const bootstrapTokenPattern = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const extraGroupPattern = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const secretKey = resourceKey(resourceTypes.find((t) => t.plural === 'secrets' && !t.group)!);

export function bootstrapTokenSecretName(tokenId: string): string {
  return `bootstrap-token-${tokenId}`;
}

/** The user a bootstrap token names; undefined for a token of another kind; TokenRejected saying why for a bad one. */
export function authenticateBootstrapToken(token: string, store: ObjectStore, now = new Date()): UserInfo | undefined {
  const m = bootstrapTokenPattern.exec(token);
  if (!m) return undefined;
  const [, id, secret] = m;
  const stored = store.get(secretKey, 'kube-system', bootstrapTokenSecretName(id));
  if (!stored) throw new TokenRejected(`no bootstrap token with id ${id} (secret kube-system/${bootstrapTokenSecretName(id)} not found)`);
  if (stored.type !== bootstrapTokenSecretType) throw new TokenRejected(`secret kube-system/${stored.metadata.name} is not of type ${bootstrapTokenSecretType}`);
  if (stored.metadata.deletionTimestamp) throw new TokenRejected(`bootstrap token ${id} is being deleted`);
  const data = decodedData(stored);
  if (data['token-id'] !== id) throw new TokenRejected(`bootstrap token secret ${stored.metadata.name} holds token-id ${JSON.stringify(data['token-id'] ?? '')}`);
  if (!sameSecret(data['token-secret'] ?? '', secret)) throw new TokenRejected(`bootstrap token ${id}: the secret does not match`);
  if (data['usage-bootstrap-authentication'] !== 'true') throw new TokenRejected(`bootstrap token ${id} is not marked usage-bootstrap-authentication=true`);
  const expiration = data.expiration;
  if (expiration !== undefined) {
    const at = Date.parse(expiration);
    if (Number.isNaN(at)) throw new TokenRejected(`bootstrap token ${id} has an unparseable expiration ${JSON.stringify(expiration)}`);
    if (at <= now.getTime()) throw new TokenRejected(`bootstrap token ${id} expired at ${expiration}`);
  }
  const extra = (data['auth-extra-groups'] ?? '').split(',').map((g) => g.trim()).filter(Boolean);
  const bad = extra.find((g) => !extraGroupPattern.test(g));
  if (bad) throw new TokenRejected(`bootstrap token ${id} names group ${JSON.stringify(bad)}, which is not under system:bootstrappers:`);
  return { name: `system:bootstrap:${id}`, groups: [bootstrappersGroup, ...extra] };
}

function decodedData(secret: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, string>)) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
  return out;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
