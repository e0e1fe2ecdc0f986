// What a node may reach through the pods bound to it, as kube's Node authorizer graph:
// node ← pod ← secret / configmap / persistentvolumeclaim / serviceaccount, and
// node ← pod ← pvc ← pv (← secret). Mirror pods reach nothing but their node: a node creates
// them itself, so they must not grant it anything. Computed from the store on each question
// (only a node's own requests ask), from the pods of one namespace, read in place (not copied).
import { resourceKey, resourceTypes } from '../registry.ts';
import type { KubeObject, ObjectStore } from '../store.ts';

export const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

export type GraphKind = 'pod' | 'secret' | 'configmap' | 'persistentvolumeclaim' | 'persistentvolume' | 'serviceaccount';

const podKey = resourceKey(resourceTypes.find((t) => t.plural === 'pods' && !t.group)!);
const pvKey = resourceKey(resourceTypes.find((t) => t.plural === 'persistentvolumes' && !t.group)!);

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const named = (names: unknown[]): string[] => [...new Set(names.filter((n): n is string => typeof n === 'string' && n !== ''))];

function allContainers(pod: KubeObject): any[] {
  const spec = pod.spec ?? {};
  return [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)];
}

/** Secrets a pod references: image pull secrets, env and envFrom, secret-backed volumes and projections. */
export function podSecretNames(pod: KubeObject): string[] {
  const names: unknown[] = arr(pod.spec?.imagePullSecrets).map((s) => s?.name);
  for (const c of allContainers(pod)) {
    for (const e of arr(c?.envFrom)) names.push(e?.secretRef?.name);
    for (const e of arr(c?.env)) names.push(e?.valueFrom?.secretKeyRef?.name);
  }
  for (const v of arr(pod.spec?.volumes)) {
    names.push(v?.secret?.secretName, v?.azureFile?.secretName, v?.csi?.nodePublishSecretRef?.name);
    for (const source of ['cephfs', 'cinder', 'flexVolume', 'rbd', 'scaleIO', 'iscsi', 'storageos']) names.push(v?.[source]?.secretRef?.name);
    for (const p of arr(v?.projected?.sources)) names.push(p?.secret?.name);
  }
  return named(names);
}

/** ConfigMaps a pod references: env and envFrom, configMap volumes and projections. */
export function podConfigMapNames(pod: KubeObject): string[] {
  const names: unknown[] = [];
  for (const c of allContainers(pod)) {
    for (const e of arr(c?.envFrom)) names.push(e?.configMapRef?.name);
    for (const e of arr(c?.env)) names.push(e?.valueFrom?.configMapKeyRef?.name);
  }
  for (const v of arr(pod.spec?.volumes)) {
    names.push(v?.configMap?.name);
    for (const p of arr(v?.projected?.sources)) names.push(p?.configMap?.name);
  }
  return named(names);
}

/** PersistentVolumeClaims a pod uses: claim volumes, and generic ephemeral volumes (claim "<pod>-<volume>"). */
export function podClaimNames(pod: KubeObject): string[] {
  return named(arr(pod.spec?.volumes).map((v) => {
    if (v?.persistentVolumeClaim) return v.persistentVolumeClaim.claimName;
    if (v?.ephemeral) return `${pod.metadata.name}-${v.name}`;
    return undefined;
  }));
}

/** Secrets a kubelet needs to mount a PersistentVolume; the namespace defaults to the bound claim's. */
export function pvSecretRefs(pv: KubeObject): Array<{ namespace: string; name: string }> {
  const claimNamespace = pv.spec?.claimRef?.namespace ?? '';
  const refs: Array<{ namespace?: string; name?: string }> = [];
  const spec = pv.spec ?? {};
  if (spec.azureFile) refs.push({ namespace: spec.azureFile.secretNamespace, name: spec.azureFile.secretName });
  for (const source of ['cephfs', 'cinder', 'flexVolume', 'rbd', 'scaleIO', 'iscsi', 'storageos']) {
    if (spec[source]?.secretRef) refs.push(spec[source].secretRef);
  }
  // Only the CSI secrets the kubelet itself uses; the controller's stay out of the node's reach.
  for (const k of ['nodeStageSecretRef', 'nodePublishSecretRef', 'nodeExpandSecretRef']) {
    if (spec.csi?.[k]) refs.push(spec.csi[k]);
  }
  return refs.filter((r) => r?.name).map((r) => ({ namespace: r.namespace || claimNamespace, name: r.name! }));
}

/** Whether a pod bound to the node in the namespace, one whose references may grant it access
 * (mirror pods grant none), passes the test. */
function someGrantingPod(store: ObjectStore, nodeName: string, namespace: string, test: (pod: KubeObject) => boolean): boolean {
  for (const p of store.scan(podKey, namespace)) {
    if (p.spec?.nodeName === nodeName && p.metadata.annotations?.[mirrorPodAnnotation] === undefined && test(p)) return true;
  }
  return false;
}

function claimReaches(store: ObjectStore, nodeName: string, namespace: string, name: string): boolean {
  return someGrantingPod(store, nodeName, namespace, (p) => podClaimNames(p).includes(name));
}

function volumeReaches(store: ObjectStore, nodeName: string, pv: KubeObject): boolean {
  const claim = pv.spec?.claimRef;
  return !!claim?.name && claimReaches(store, nodeName, claim.namespace ?? '', claim.name);
}

/** Whether an object of kind (which need not exist) is related to the node through the pods bound to it. */
export function nodeReaches(store: ObjectStore, nodeName: string, kind: GraphKind, namespace: string, name: string): boolean {
  if (!nodeName || !name) return false;
  switch (kind) {
    case 'pod':
      return store.get(podKey, namespace, name)?.spec?.nodeName === nodeName;
    case 'serviceaccount':
      return someGrantingPod(store, nodeName, namespace, (p) => p.spec?.serviceAccountName === name);
    case 'configmap':
      return someGrantingPod(store, nodeName, namespace, (p) => podConfigMapNames(p).includes(name));
    case 'persistentvolumeclaim':
      return claimReaches(store, nodeName, namespace, name);
    case 'persistentvolume': {
      const pv = store.get(pvKey, '', name);
      return !!pv && volumeReaches(store, nodeName, pv);
    }
    case 'secret':
      if (someGrantingPod(store, nodeName, namespace, (p) => podSecretNames(p).includes(name))) return true;
      return [...store.scan(pvKey)].some((pv) => pvSecretRefs(pv).some((r) => r.namespace === namespace && r.name === name) && volumeReaches(store, nodeName, pv));
  }
}
