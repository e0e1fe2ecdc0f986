// The benchmark's own API client: JSON over one keep-alive HTTPS pool with the admin's
// credentials, so that thousands of creates and deletes cost no handshake each and the bench
// does not lean on the agent's client code.
import { Agent, request } from 'node:https';
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface AdminClient {
  call<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  close(): void;
}

export async function adminClient(kubeConfig: KubeConfig, maxSockets = 64): Promise<AdminClient> {
  const server = new URL(kubeConfig.getCurrentCluster()!.server);
  const tls: RequestOptions = {};
  await kubeConfig.applyToHTTPSOptions(tls);
  const agent = new Agent({ keepAlive: true, maxSockets, ca: tls.ca, cert: tls.cert, key: tls.key });
  return {
    call: (method, path, body) => new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request({
        host: server.hostname, port: server.port, path, method, agent,
        headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          if ((res.statusCode ?? 500) >= 300) reject(Object.assign(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`), { code: res.statusCode }));
          else resolve(text ? JSON.parse(text) : undefined);
        });
      });
      req.on('error', reject);
      req.end(payload);
    }),
    close: () => agent.destroy(),
  };
}
