// One GET on the API server of a kubeconfig, the whole answer read: what `mini-kubelet trace`
// and the dev timeline viewer need (small answers, no watch). The connection and credentials
// are the agent's own (src/agent/api/api-connection.ts: client-node's KubeConfig decides them).
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '../agent/api/kubeconfig.ts';
import { apiConnection } from '../agent/api/api-connection.ts';

export interface ApiAnswer {
  status: number;
  contentType: string;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export type ApiGet = (path: string, query?: Record<string, string>, accept?: string) => Promise<ApiAnswer>;

export function apiGetter(kubeConfig: KubeConfig, timeoutMs = 30_000): ApiGet {
  const prepare = apiConnection(kubeConfig);
  return async (path, query, accept = 'application/json') => {
    const { url, options } = await prepare(path, query);
    const send = url.protocol === 'http:' ? http.request : https.request;
    return new Promise((resolve, reject) => {
      const req = send(url, { ...options, method: 'GET', headers: { ...(options.headers ?? {}), accept }, timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body, headers: res.headers }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname}: no answer from the API server within ${timeoutMs} ms`)));
      req.on('error', (err) => reject(new Error(`GET ${url.origin}${url.pathname}: ${err.message}`)));
      req.end();
    });
  };
}

/** The message of a Kubernetes Status answer, or the text itself. */
export function answerMessage(a: ApiAnswer): string {
  try {
    const status = JSON.parse(a.body) as { kind?: string; message?: string };
    if (status.kind === 'Status' && status.message) return status.message;
  } catch { /* not JSON: the text is the message */ }
  return a.body.trim() || `HTTP ${a.status}`;
}

/** Where a pod's timeline is reached through the API server's node proxy. */
export function timelineProxyPath(node: string, namespace: string, name: string): string {
  return `/api/v1/nodes/${encodeURIComponent(node)}/proxy/debug/pods/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/timeline`;
}
