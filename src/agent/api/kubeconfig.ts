// Reads a kubeconfig (current context) into what an HTTP client needs: the server URL and
// the TLS material or token. Written here because @kubernetes/client-node's runtime pulls in
// undici 8, which does not load on Node 20; the agent only uses its types.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface ApiConnection {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecureSkipTLSVerify?: boolean;
}

interface Named<T> { name: string; [k: string]: unknown; cluster?: T; user?: T; context?: T }

function material(base: string, data: unknown, file: unknown): Buffer | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file) return readFileSync(resolve(base, file));
  return undefined;
}

export function parseKubeconfig(text: string, baseDir = '.'): ApiConnection {
  const doc = parseYaml(text) as Record<string, unknown>;
  const contexts = (doc.contexts ?? []) as Array<Named<Record<string, string>>>;
  const clusters = (doc.clusters ?? []) as Array<Named<Record<string, unknown>>>;
  const users = (doc.users ?? []) as Array<Named<Record<string, unknown>>>;
  const contextName = doc['current-context'] as string | undefined;
  const context = (contexts.find((c) => c.name === contextName) ?? contexts[0])?.context;
  const cluster = (clusters.find((c) => c.name === context?.cluster) ?? clusters[0])?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error('kubeconfig names no cluster server');
  const user = (users.find((u) => u.name === context?.user) ?? users[0])?.user ?? {};
  const tokenFile = user.tokenFile ?? user['token-file'];
  return {
    server: cluster.server.replace(/\/$/, ''),
    ca: material(baseDir, cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: material(baseDir, user['client-certificate-data'], user['client-certificate']),
    key: material(baseDir, user['client-key-data'], user['client-key']),
    token: typeof user.token === 'string' ? user.token : typeof tokenFile === 'string' ? readFileSync(resolve(baseDir, tokenFile), 'utf8').trim() : undefined,
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

export function loadKubeconfigFile(path: string): ApiConnection {
  return parseKubeconfig(readFileSync(path, 'utf8'), dirname(path));
}
