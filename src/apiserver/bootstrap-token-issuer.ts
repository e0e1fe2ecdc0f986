// What `kubeadm token create --print-join-command` gives a new node, for the dev control plane:
// a bootstrap token (a Secret in kube-system, in kubeadm's default group, with an expiration)
// and the bootstrap kubeconfig that carries it, as kubeadm writes bootstrap-kubelet.conf.
import { randomInt } from 'node:crypto';
import YAML from 'yaml';
import { bootstrapTokenSecretName, bootstrapTokenSecretType } from './auth/bootstrap-tokens.ts';
import { resourceTypes } from './registry.ts';
import type { ResourceService } from './resources.ts';

/** kubeadm's group for node bootstrap tokens; manifests/rbac/node-bootstrap.yaml binds it. */
export const defaultNodeTokenGroup = 'system:bootstrappers:kubeadm:default-node-token';
const secretType = resourceTypes.find((t) => t.plural === 'secrets' && !t.group)!;
const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

export interface BootstrapToken {
  /** "<id>.<secret>", the bearer token. */
  token: string;
  id: string;
  expiration: string;
}

export function createBootstrapToken(resources: ResourceService, ttlMs: number, now = new Date()): BootstrapToken {
  const id = randomString(6);
  const secret = randomString(16);
  const expiration = new Date(now.getTime() + ttlMs).toISOString().replace(/\.\d+Z$/, 'Z');
  resources.create(secretType, 'kube-system', {
    metadata: { name: bootstrapTokenSecretName(id), namespace: 'kube-system' },
    type: bootstrapTokenSecretType,
    stringData: {
      description: 'Bootstrap token for a mini-kubelet node, made by the dev control plane.',
      'token-id': id,
      'token-secret': secret,
      expiration,
      'usage-bootstrap-authentication': 'true',
      'usage-bootstrap-signing': 'true',
      'auth-extra-groups': defaultNodeTokenGroup,
    },
  });
  return { token: `${id}.${secret}`, id, expiration };
}

export function bootstrapKubeconfigYaml(server: string, caCertPem: string, token: string): string {
  const user = 'tls-bootstrap-token-user';
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubernetes', cluster: { server, 'certificate-authority-data': Buffer.from(caCertPem).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: `${user}@kubernetes`, context: { cluster: 'kubernetes', user } }],
    'current-context': `${user}@kubernetes`,
    preferences: {},
  });
}
