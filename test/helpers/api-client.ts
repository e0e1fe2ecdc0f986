// Requests to the dev API server as a given caller, over HTTPS that trusts the server's CA:
// the admin (the client certificate in the kubeconfig it writes), anonymous (no credentials),
// a bearer token, or any client certificate.
import { Agent, fetch, type RequestInit, type Response } from 'undici';
import YAML from 'yaml';
import type { RunningApiServer } from '../../src/apiserver/index.ts';

export interface ClientCertificate { certPem: string; keyPem: string }
export type Caller = 'admin' | 'anonymous' | { token: string } | ClientCertificate;

const agents = new WeakMap<RunningApiServer, Map<string, Agent>>();

/** The admin's client certificate, read back from the server's kubeconfig. */
export function adminCertificate(server: RunningApiServer): ClientCertificate {
  const user = YAML.parse(server.kubeconfigYaml).users[0].user;
  const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  return { certPem: decode(user['client-certificate-data']), keyPem: decode(user['client-key-data']) };
}

function agentFor(server: RunningApiServer, as: Caller): Agent {
  const cert = as === 'admin' ? adminCertificate(server) : typeof as === 'object' && 'certPem' in as ? as : undefined;
  const key = cert ? cert.certPem : 'none';
  let byKey = agents.get(server);
  if (!byKey) agents.set(server, (byKey = new Map()));
  let agent = byKey.get(key);
  if (!agent) {
    agent = new Agent({ connect: { ca: server.caCertPem, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) } });
    byKey.set(key, agent);
  }
  return agent;
}

export function apiFetch(server: RunningApiServer, path: string, init: RequestInit = {}, as: Caller = 'admin'): Promise<Response> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (typeof as === 'object' && 'token' in as) headers.Authorization = `Bearer ${as.token}`;
  return fetch(`${server.url}${path}`, { ...init, headers, dispatcher: agentFor(server, as) });
}

/** A JSON request and its parsed answer. */
export async function apiJson(server: RunningApiServer, method: string, path: string, body?: unknown, as: Caller = 'admin'): Promise<{ status: number; json: any }> {
  const res = await apiFetch(server, path, {
    method, headers: body !== undefined ? { 'Content-Type': 'application/json' } : {}, body: body !== undefined ? JSON.stringify(body) : undefined,
  }, as);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}
