// Credentials for an image pull from the pod's imagePullSecrets: kubernetes.io/dockerconfigjson
// ({"auths": {host: {...}}}) and the older kubernetes.io/dockercfg ({host: {...}}). Entries
// whose registry host matches the image's are returned in the pod's order; the puller tries
// them one by one, then without credentials when none match (as the kubelet does).
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { AuthConfig } from '../types.ts';
import { canonicalRegistry } from './image-ref.ts';

interface DockerConfigEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export async function pullCredentials(
  pod: V1Pod, registry: string, getSecret: (namespace: string, name: string) => Promise<V1Secret | undefined>,
): Promise<AuthConfig[]> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const out: AuthConfig[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    const secret = await getSecret(namespace, ref.name);
    if (!secret) continue; // the kubelet only warns about a missing pull secret
    for (const [host, entry] of Object.entries(dockerConfigOf(secret))) {
      if (canonicalRegistry(host) === registry) out.push(authConfigOf(entry));
    }
  }
  return out;
}

function dockerConfigOf(secret: V1Secret): Record<string, DockerConfigEntry> {
  const raw = (key: string) => secret.data?.[key] !== undefined ? Buffer.from(secret.data[key]!, 'base64').toString('utf8') : secret.stringData?.[key];
  try {
    if (secret.type === 'kubernetes.io/dockerconfigjson') {
      const text = raw('.dockerconfigjson');
      return text ? ((JSON.parse(text) as { auths?: Record<string, DockerConfigEntry> }).auths ?? {}) : {};
    }
    if (secret.type === 'kubernetes.io/dockercfg') {
      const text = raw('.dockercfg');
      return text ? (JSON.parse(text) as Record<string, DockerConfigEntry>) : {};
    }
  } catch {
    return {};
  }
  return {};
}

function authConfigOf(entry: DockerConfigEntry): AuthConfig {
  let { username, password } = entry;
  if (entry.auth && (!username || !password)) {
    // "auth" is base64("user:password").
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
  }
  // No serverAddress, as the kubelet's keyring does: the secret was already matched to the
  // image's registry here, and containerd rejects a bare "host:port" in that field.
  return {
    username: username ?? '',
    password: password ?? '',
    ...(entry.auth ? { auth: entry.auth } : {}),
    ...(entry.identitytoken ? { identityToken: entry.identitytoken } : {}),
    ...(entry.registrytoken ? { registryToken: entry.registrytoken } : {}),
  };
}
