// The ServiceAccount admission step kube-apiserver runs on every pod create: the pod runs as
// a service account that exists ("default" unless it names one), and unless it opts out
// (automountServiceAccountToken false on the pod, or on the account when the pod says
// nothing) it gets the projected kube-api-access-<suffix> volume: a bound token, the
// cluster CA and its namespace, mounted read-only at the path client libraries read. Mirror
// pods are left as the kubelet made them, and may reference no account, secret or token.
import { forbiddenResource } from './errors.ts';
import { generateName } from './names.ts';
import { resourceKey, resourceTypes } from './registry.ts';
import type { KubeObject, ObjectStore } from './store.ts';
import { mirrorPodAnnotation, podSecretNames } from './auth/node-graph.ts';

export const defaultServiceAccountName = 'default';
export const tokenVolumePrefix = 'kube-api-access-';
export const tokenMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
export const rootCaConfigMapName = 'kube-root-ca.crt';
/** Tokens of the automounted volume last a little over an hour: kube's warn-only bound-token lifetime. */
export const tokenVolumeExpirationSeconds = 3607;

const serviceAccountKey = resourceKey(resourceTypes.find((t) => t.plural === 'serviceaccounts' && !t.group)!);

/** The projected source kube's admission adds (with defaultMode set explicitly, as it does). */
export function tokenVolumeSource(): Record<string, unknown> {
  return {
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { expirationSeconds: tokenVolumeExpirationSeconds, path: 'token' } },
      { configMap: { name: rootCaConfigMapName, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

/** Admits (and mutates) a pod being created in its namespace, or throws kube's 403. */
export function admitServiceAccount(pod: KubeObject, store: ObjectStore): void {
  const spec = pod.spec;
  const deny = (why: string) => forbiddenResource('pods', '', String(pod.metadata.name || pod.metadata.generateName || ''), why);
  if (pod.metadata.annotations?.[mirrorPodAnnotation] !== undefined) {
    if (spec.serviceAccountName) throw deny('a mirror pod may not reference service accounts');
    if (podSecretNames(pod).length) throw deny('a mirror pod may not reference secrets');
    const volumes: any[] = spec.volumes ?? [];
    if (volumes.some((v) => (v?.projected?.sources ?? []).some((s: any) => s?.serviceAccountToken))) {
      throw deny('a mirror pod may not use ServiceAccountToken volume projections');
    }
    return;
  }
  spec.serviceAccountName ||= defaultServiceAccountName;
  spec.serviceAccount = spec.serviceAccountName;
  const namespace = String(pod.metadata.namespace ?? '');
  const account = store.get(serviceAccountKey, namespace, spec.serviceAccountName);
  if (!account) {
    throw deny(`error looking up service account ${namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`);
  }
  if (shouldAutomount(account, pod)) mountToken(spec);
  if (!spec.imagePullSecrets?.length && account.imagePullSecrets?.length) {
    spec.imagePullSecrets = account.imagePullSecrets.map((s: any) => ({ name: s?.name }));
  }
}

/** The pod's own choice wins, then the account's; by default the token is mounted. */
function shouldAutomount(account: KubeObject, pod: KubeObject): boolean {
  if (typeof pod.spec.automountServiceAccountToken === 'boolean') return pod.spec.automountServiceAccountToken;
  if (typeof account.automountServiceAccountToken === 'boolean') return account.automountServiceAccountToken;
  return true;
}

function mountToken(spec: any): void {
  const volumes: any[] = (spec.volumes ??= []);
  // A volume already named like ours (a re-created pod's spec) is reused, never doubled.
  const existing = volumes.find((v) => typeof v?.name === 'string' && v.name.startsWith(tokenVolumePrefix));
  const name: string = existing?.name ?? generateName(tokenVolumePrefix);
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const mounts: any[] = (c.volumeMounts ??= []);
    // A container that mounts something of its own at the path keeps it.
    if (mounts.some((m) => m?.mountPath === tokenMountPath)) continue;
    mounts.push({ name, readOnly: true, mountPath: tokenMountPath });
    needed = true;
  }
  if (!existing && needed) volumes.push({ name, projected: tokenVolumeSource() });
  if (volumes.length === 0) delete spec.volumes;
}
