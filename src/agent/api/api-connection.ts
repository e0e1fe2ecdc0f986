// How one request reaches the API server of a KubeConfig: client-node's KubeConfig decides the
// credentials (client certificates, tokens, token files, exec and auth-provider plugins, CA,
// proxies) through applyToHTTPSOptions; this file only adds a connection pool. All calls share
// one keep-alive agent per set of TLS credentials, as client-go's transport cache does, so a
// call pays no fresh TLS handshake; when the credentials change (a rotated client certificate)
// the old pool takes no new requests and its idle connections are closed.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface PreparedRequest {
  url: URL;
  options: https.RequestOptions;
}

/** A digest of what decides a TLS connection's identity: the CA, the client certificate and key, the checks. */
function tlsCredentialsKey(opts: https.RequestOptions): string {
  const hash = createHash('sha256');
  for (const part of [opts.ca, opts.cert, opts.key, opts.pfx, opts.passphrase, opts.rejectUnauthorized, opts.servername]) hash.update(`${String(part)}\0`);
  return hash.digest('hex');
}

/** Closes an agent's connections as they fall idle: it is no longer handed requests. */
function retire(agent: http.Agent): void {
  agent.on('free', (socket) => socket.destroy());
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}

/** Builds the URL and request options of each call: query in order given, undefined values left out. */
export function apiConnection(kubeConfig: KubeConfig): (path: string, query?: Query) => Promise<PreparedRequest> {
  let shared: { key: string; agent: http.Agent } | undefined;
  return async (path, query) => {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig: no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const options: https.RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(options);
    // A proxy: client-node's own agent knows how to reach it. Otherwise the shared pool.
    if (!cluster.proxyUrl) {
      const key = `${url.protocol}${tlsCredentialsKey(options)}`;
      if (shared?.key !== key) {
        if (shared) retire(shared.agent);
        const tls = { ca: options.ca, cert: options.cert, key: options.key, pfx: options.pfx, passphrase: options.passphrase, servername: options.servername, ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}) };
        // Idle connections close after 4 s, before a server's keep-alive limit (Node's 5 s) could
        // close one just as a request goes out on it (Node's global agent does the same).
        const pool = { keepAlive: true, timeout: 4000 };
        shared = { key, agent: url.protocol === 'http:' ? new http.Agent(pool) : new https.Agent({ ...pool, ...tls }) };
      }
      options.agent = shared.agent;
    }
    return { url, options };
  };
}
