// Who sends a request, in kube-apiserver's order: a client certificate the cluster CA signed
// (CN = user, O = groups), else a bearer token (a bootstrap token, or a service-account token
// this server issued), else anonymous. A
// credential that is presented but does not verify is a 401, never a fall back to anonymous.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { userFromClientCertificate } from '../../tls/client-identity.ts';
import type { UserInfo } from './attributes.ts';
import type { Logger } from 'pino';
import type { ObjectStore } from '../store.ts';
import { authenticateBootstrapToken } from './bootstrap-tokens.ts';
import { unauthorized } from './denials.ts';
import { TokenRejected, type ServiceAccountTokens } from './service-account-tokens.ts';

export const anonymousUser: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
const clientAuthUsage = '1.3.6.1.5.5.7.3.2';

export class RequestAuthenticator {
  constructor(private readonly tokens: ServiceAccountTokens, private readonly store: ObjectStore, private readonly log?: Logger) {}

  /** The user a bearer token names, or undefined when it names none; TokenRejected says why. */
  async authenticateToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences?: string[] } | undefined> {
    const bootstrapUser = authenticateBootstrapToken(token, this.store);
    if (bootstrapUser) return { user: bootstrapUser };
    return this.tokens.authenticate(token, audiences);
  }

  /** The request's user, with system:authenticated added for anyone not anonymous; throws 401. */
  async authenticate(req: IncomingMessage): Promise<UserInfo> {
    const fromCertificate = certificateUser(req.socket as TLSSocket);
    if (fromCertificate.user) return withAuthenticatedGroup(fromCertificate.user);
    const token = bearerToken(req.headers.authorization);
    if (token !== undefined) {
      try {
        const answer = await this.authenticateToken(token);
        if (answer) return withAuthenticatedGroup(answer.user);
      } catch (err) {
        if (!(err instanceof TokenRejected)) throw err;
        // The client hears only 401, as from kube-apiserver; the reason is for the server's log.
        this.log?.info({ reason: err.message }, 'bearer token rejected');
      }
      throw unauthorized();
    }
    if (fromCertificate.presented) throw unauthorized();
    return anonymousUser;
  }
}

function certificateUser(socket: TLSSocket): { presented: boolean; user?: UserInfo } {
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!cert || Object.keys(cert).length === 0) return { presented: false };
  // kube verifies the chain against the client CA and requires the clientAuth usage.
  const usages = cert.ext_key_usage;
  if (!socket.authorized || (usages && !usages.includes(clientAuthUsage))) return { presented: true };
  const user = userFromClientCertificate(cert);
  return { presented: true, user: user && { name: user.name, groups: user.groups } };
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
  return m ? m[1] : '';
}

export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes('system:authenticated')) return user;
  return { ...user, groups: [...user.groups, 'system:authenticated'] };
}
