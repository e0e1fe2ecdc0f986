// Who is asking, the kubelet's way (its x509 + webhook token authenticators, then anonymous):
//  1. a client certificate the TLS layer verified against --client-ca-file: CN is the user,
//     O the groups. A certificate that does NOT verify is an error, never "no credentials";
//  2. a bearer token, checked with a TokenReview on the API server (answers cached by the
//     token's SHA-256, never by the token itself; a failed review is not cached);
//  3. nothing presented: system:anonymous when --anonymous-auth, else refused.
// Any error in 1 or 2 without a success refuses the request (401), even with anonymous on, as
// kube's fail-on-error union does: a bad credential must not quietly become anonymous.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { userFromClientCertificate } from '../../../tls/client-identity.ts';
import type { TokenReviewResult } from '../../api/kube-api.ts';
import { ReviewCache } from './review-cache.ts';

export interface RequestUser {
  name: string;
  uid?: string;
  groups: string[];
}

export type AuthenticationMethod = 'x509' | 'token' | 'anonymous';

export type Authentication =
  | { ok: true; user: RequestUser; method: AuthenticationMethod }
  /** `reason` is for the log; the client is told only "Unauthorized", as the kubelet does. */
  | { ok: false; reason: string };

export type Authenticator = (req: IncomingMessage) => Promise<Authentication>;

/** How bearer tokens are checked: by the API server, or not at all with the reason why. */
export type TokenChecking =
  | { review: (token: string) => Promise<TokenReviewResult>; cacheTtlMs: number }
  | { unavailable: string };

export interface AuthenticatorOptions {
  /** Client certificates are requested and verified against the client CA bundle. */
  x509: boolean;
  /** Absent: token authentication is off (--authentication-token-webhook=false) and tokens are ignored. */
  tokens?: TokenChecking;
  anonymous: boolean;
  now?: () => number;
}

export const anonymousUser: RequestUser = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** The token of an "Authorization: Bearer <token>" header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const parts = header?.trim().split(' ') ?? [];
  if (parts.length < 2 || parts[0].toLowerCase() !== 'bearer') return undefined;
  return parts[1] || undefined;
}

/** Every authenticated user is in system:authenticated, as kube adds it. */
function withAuthenticatedGroup(user: RequestUser): RequestUser {
  return user.groups.includes('system:authenticated') ? user : { ...user, groups: [...user.groups, 'system:authenticated'] };
}

type Step = { user: RequestUser } | { error: string } | undefined;

function fromClientCertificate(req: IncomingMessage): Step {
  const socket = req.socket as Partial<TLSSocket>;
  const cert = socket.getPeerCertificate?.();
  if (!cert || Object.keys(cert).length === 0) return undefined; // none presented
  if (!socket.authorized) return { error: `client certificate not verified by the client CA: ${String(socket.authorizationError ?? 'unknown reason')}` };
  const user = userFromClientCertificate(cert);
  return user ? { user: { name: user.name, groups: user.groups } } : { error: 'client certificate has no common name' };
}

export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const cache = new ReviewCache<TokenReviewResult>({ now: opts.now });

  async function fromToken(token: string): Promise<Step> {
    const tokens = opts.tokens!;
    if ('unavailable' in tokens) return { error: tokens.unavailable };
    const key = createHash('sha256').update(token).digest('hex');
    let result = cache.get(key);
    if (!result) {
      try {
        result = await tokens.review(token);
      } catch (err) {
        // The reason is logged: make sure an error that echoes the request cannot carry the token.
        const message = String((err as Error)?.message ?? err).split(token).join('<token>');
        return { error: `TokenReview failed: ${message}` };
      }
      cache.set(key, result, tokens.cacheTtlMs);
    }
    if (!result.authenticated || !result.user) return { error: `token not authenticated${result.error ? `: ${result.error}` : ''}` };
    return { user: { name: result.user.username, uid: result.user.uid || undefined, groups: result.user.groups ?? [] } };
  }

  return async (req) => {
    const errors: string[] = [];
    const certificate = opts.x509 ? fromClientCertificate(req) : undefined;
    if (certificate && 'user' in certificate) return { ok: true, user: withAuthenticatedGroup(certificate.user), method: 'x509' };
    if (certificate) errors.push(certificate.error);

    const token = opts.tokens ? bearerToken(req.headers.authorization) : undefined;
    if (token !== undefined) {
      const fromReview = await fromToken(token);
      if (fromReview && 'user' in fromReview) return { ok: true, user: withAuthenticatedGroup(fromReview.user), method: 'token' };
      if (fromReview) errors.push(fromReview.error);
    }

    if (errors.length) return { ok: false, reason: errors.join('; ') };
    if (opts.anonymous) return { ok: true, user: anonymousUser, method: 'anonymous' };
    return { ok: false, reason: 'no credentials (anonymous access is off)' };
  };
}
