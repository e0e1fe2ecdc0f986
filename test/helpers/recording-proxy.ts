// A TLS-terminating proxy in front of an API server that records every request a client sends
// through it (method, path, Content-Type, body) before passing it on byte for byte, and streams
// the answers back (watches included). Give a client kubeConfig() instead of the server's: it
// trusts the proxy's own CA and keeps the user of the upstream kubeconfig, whose credentials the
// proxy uses for the requests it forwards. The server is untouched; what is recorded is the wire.
import { once } from 'node:events';
import { Agent as HttpsAgent, createServer, request, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { createCertificateAuthority } from '../../src/tls/certificates.ts';

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  /** The Content-Type header, '' when none. */
  contentType: string;
  body: Buffer;
  /** The upstream's status code, once it answered. */
  status?: number;
}

export interface RecordingProxy {
  url: string;
  /** Every request so far, in the order they arrived (a body is complete once its request has ended). */
  requests: RecordedRequest[];
  /** The upstream kubeconfig's user and context, pointed at the proxy. */
  kubeConfig(): KubeConfig;
  stop(): Promise<void>;
}

/** Request headers that belong to one hop, not to the request. */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

export async function startRecordingProxy(upstream: KubeConfig): Promise<RecordingProxy> {
  const cluster = upstream.getCurrentCluster();
  if (!cluster) throw new Error('recording proxy: the upstream kubeconfig has no current cluster');
  const target = new URL(cluster.server);
  const tls: RequestOptions = {};
  await upstream.applyToHTTPSOptions(tls);
  const agent = new HttpsAgent({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized ?? true });

  const ca = await createCertificateAuthority('recording-proxy-ca');
  const serving = await ca.issue({ commonName: 'recording-proxy', hosts: ['127.0.0.1', 'localhost'], usages: ['serverAuth'] });
  const requests: RecordedRequest[] = [];

  const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const record: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', contentType: String(req.headers['content-type'] ?? ''), body: Buffer.alloc(0) };
    requests.push(record);
    const chunks: Buffer[] = [];
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !hopByHop.has(k)));
    let answered = false;
    const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...headers, host: target.host }, agent }, (answer) => {
      record.status = answer.statusCode;
      answer.on('end', () => { answered = true; });
      const back = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => !hopByHop.has(k)));
      res.writeHead(answer.statusCode ?? 502, back);
      answer.pipe(res);
    });
    out.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`recording proxy: ${err.message}`);
    });
    // A client that goes away (a watch it stops) ends the upstream request too.
    res.on('close', () => {
      if (!answered) out.destroy();
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      record.body = Buffer.concat(chunks);
    });
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    kubeConfig() {
      const contextName = upstream.getCurrentContext();
      const context = upstream.getContextObject(contextName);
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: context?.cluster ?? 'proxy', server: url, caData: Buffer.from(ca.certPem).toString('base64'), skipTLSVerify: false }],
        users: upstream.getUsers(),
        contexts: upstream.getContexts(),
        currentContext: contextName,
      });
      return kc;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
