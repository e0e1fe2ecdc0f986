// For client-node's generated API clients (the bench scripts' admin clients; the agent itself
// goes through rest-client.ts, whose api-connection.ts pools the same way): client-node builds
// a new undici Agent, so a new connection pool, for every request it authenticates with TLS
// credentials. Every API call then pays a fresh TLS handshake (and the API server a fresh
// connection). Behind this wrapper all calls share one pool per set of TLS credentials, as
// client-go's transport cache does; when the credentials change the old pool is closed.
import { createHash } from 'node:crypto';
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

type RequestContext = Parameters<KubeConfig['applySecurityAuthentication']>[0];
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/** A digest of what decides a TLS connection's identity: the CA, the client certificate and key, the checks. */
async function tlsCredentialsKey(kubeConfig: KubeConfig): Promise<string> {
  const opts: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(opts);
  const hash = createHash('sha256');
  for (const part of [opts.ca, opts.cert, opts.key, opts.rejectUnauthorized, opts.servername]) hash.update(`${String(part)}\0`);
  return hash.digest('hex');
}

/** Makes every API client of this KubeConfig (made after this call or before) reuse connections. */
export function shareConnections(kubeConfig: KubeConfig): KubeConfig {
  const authenticate = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  let shared: { key: string; dispatcher: Dispatcher } | undefined;
  // makeApiClient hands the KubeConfig itself to the clients as their authenticator, so the
  // clients call this method before every request.
  kubeConfig.applySecurityAuthentication = async (context: RequestContext) => {
    await authenticate(context);
    const fresh = context.getDispatcher();
    if (!fresh) return; // no TLS options: the global pool, which already keeps connections
    const key = await tlsCredentialsKey(kubeConfig);
    if (shared?.key === key) {
      context.setDispatcher(shared.dispatcher);
      return;
    }
    const previous = shared?.dispatcher;
    shared = { key, dispatcher: fresh };
    void previous?.close().catch(() => {});
  };
  return kubeConfig;
}
