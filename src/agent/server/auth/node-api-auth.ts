// The node API's authenticator and authorizer, built from the agent's configuration. Standalone
// (no API server) there is no one to ask about tokens or permissions: those requests are
// refused rather than waved through, and one startup line says so and what works instead.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { KubeApi } from '../../api/kube-api.ts';
import type { AgentConfig } from '../../config/agent-config.ts';
import { createAuthenticator, type Authenticator } from './authenticate.ts';
import { createAuthorizer, type Authorizer } from './authorize.ts';

export interface NodeApiAuth {
  authenticate: Authenticator;
  authorize: Authorizer;
  /** PEM bundle of --client-ca-file: the TLS layer requests client certificates only with one. */
  clientCaPem?: string;
}

export const standaloneTokenReason = 'bearer tokens cannot be checked: no API server (standalone mode, no --kubeconfig)';
export const standaloneAuthorizationReason =
  'Webhook authorization needs an API server and this node runs standalone (no --kubeconfig); use --authorization-mode=AlwaysAllow with --client-ca-file';

export function nodeApiAuth(config: Pick<AgentConfig, 'authentication' | 'authorization'>, api: KubeApi | undefined, logger: Logger): NodeApiAuth {
  const { authentication, authorization } = config;
  let clientCaPem: string | undefined;
  if (authentication.x509.clientCAFile) {
    try {
      clientCaPem = readFileSync(authentication.x509.clientCAFile, 'utf8');
    } catch (err) {
      throw new Error(`cannot read --client-ca-file ${authentication.x509.clientCAFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  const authenticate = createAuthenticator({
    x509: clientCaPem !== undefined,
    tokens: !authentication.webhook.enabled ? undefined
      : api ? { review: (token) => api.reviewToken(token), cacheTtlMs: authentication.webhook.cacheTtlMs }
      : { unavailable: standaloneTokenReason },
    anonymous: authentication.anonymous.enabled,
  });
  const authorize = createAuthorizer({
    mode: authorization.mode,
    review: api
      ? { reviewAccess: (r) => api.reviewAccess(r), ...authorization.webhook }
      : { unavailable: standaloneAuthorizationReason },
    onReviewError: (err, a) => logger.warn({ err, subresource: a.subresource, verb: a.verb }, 'node API: SubjectAccessReview failed'),
  });

  const refusedStandalone = [
    ...(!api && authentication.webhook.enabled ? ['bearer tokens get 401'] : []),
    ...(!api && authorization.mode === 'Webhook' ? ['every request gets 403 (Webhook authorization)'] : []),
  ];
  if (refusedStandalone.length) {
    logger.warn({ refused: refusedStandalone }, `node API: standalone, so nothing can be checked with an API server: ${refusedStandalone.join(' and ')}; use --authorization-mode=AlwaysAllow with --client-ca-file for certificate holders`);
  }
  if (authorization.mode === 'AlwaysAllow' && authentication.anonymous.enabled) {
    logger.warn('node API: --anonymous-auth with --authorization-mode=AlwaysAllow lets anyone who reaches the port read pods and logs');
  }
  if (!clientCaPem && !(api && authentication.webhook.enabled) && !authentication.anonymous.enabled) {
    logger.warn('node API: no --client-ca-file and no token webhook: no request can authenticate');
  }
  return { authenticate, authorize, clientCaPem };
}
