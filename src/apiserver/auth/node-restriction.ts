// NodeRestriction admission at its core: what a kubelet may write, beyond what the Node
// authorizer lets it attempt. Its own Node (no taints or restricted labels changed), the status
// of pods bound to it, mirror pods bound to and owned by it that reference nothing else,
// deleting pods bound to it, its own Lease, and tokens for pods bound to it. Refusals are
// kube's 403 texts, about the object written.
import { isDeepStrictEqual } from 'node:util';
import { forbiddenResource, notFound, type ApiError } from '../errors.ts';
import { resourceKey, resourceTypes, type ResourceType } from '../registry.ts';
import type { KubeObject, ObjectStore } from '../store.ts';
import type { UserInfo } from './attributes.ts';
import { nodeIdentity, nodeLeaseNamespace } from './node-authorizer.ts';
import { mirrorPodAnnotation, podConfigMapNames, podSecretNames } from './node-graph.ts';

type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

const operations: Record<string, Operation> = { create: 'CREATE', update: 'UPDATE', patch: 'UPDATE', delete: 'DELETE', deletecollection: 'DELETE' };

const podKey = resourceKey(resourceTypes.find((t) => t.plural === 'pods' && !t.group)!);
const nodeKey = resourceKey(resourceTypes.find((t) => t.plural === 'nodes' && !t.group)!);

// Labels a kubelet may set on its Node (kube's kubelet label list and namespaces).
const kubeletLabels = new Set([
  'kubernetes.io/hostname', 'kubernetes.io/os', 'kubernetes.io/arch', 'beta.kubernetes.io/os', 'beta.kubernetes.io/arch',
  'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/region',
]);
const kubeletLabelNamespaces = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const labelNamespace = (key: string) => (key.includes('/') ? key.slice(0, key.indexOf('/')) : '');
const inNamespace = (ns: string, domain: string) => ns === domain || ns.endsWith(`.${domain}`);

/** Labels a node may not add, change or remove on itself, sorted. */
function forbiddenLabels(after: Record<string, string> = {}, before: Record<string, string> = {}): string[] {
  const modified = [...new Set([...Object.keys(after), ...Object.keys(before)])].filter((k) => after[k] !== before[k]);
  return modified.filter((key) => {
    const ns = labelNamespace(key);
    if (inNamespace(ns, 'node-restriction.kubernetes.io')) return true;
    const kubernetesLabel = inNamespace(ns, 'kubernetes.io') || inNamespace(ns, 'k8s.io');
    const kubeletLabel = kubeletLabels.has(key) || kubeletLabelNamespaces.some((d) => inNamespace(ns, d));
    return kubernetesLabel && !kubeletLabel;
  }).sort();
}

/** Go's semantic equality treats a missing list or map like an empty one. */
function sameSemantically(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => JSON.parse(JSON.stringify(v ?? null, (_k, x) =>
    (x && typeof x === 'object' && Object.keys(x).length === 0 ? undefined : x)) ?? 'null');
  return isDeepStrictEqual(norm(a), norm(b));
}

/**
 * NodeRestriction for one write (verb create, update, patch, delete or deletecollection).
 * incoming is the whole object as it would be written (for a patch: after applying it; for a
 * pod create: as sent, before defaulting), existing the stored one (updates, deletes). store
 * lets it check what the request does not carry (a mirror pod's Node uid, the pod a token is
 * bound to). Returns undefined when admitted, else the 403 (or 404) to answer.
 */
export function nodeRestriction(
  user: UserInfo, verb: string, type: ResourceType, namespace: string, name: string, subresource: string | undefined,
  incoming: KubeObject | undefined, existing: KubeObject | undefined, store?: ObjectStore,
): ApiError | undefined {
  const { isNode, nodeName: node } = nodeIdentity(user);
  const op = operations[verb];
  if (!isNode || !op) return undefined;
  const objectName = name || incoming?.metadata?.name || incoming?.metadata?.generateName || 'Unknown';
  const deny = (why: string) => forbiddenResource(type.plural, type.group, objectName, why);
  if (!node) return deny(`could not determine node from user "${user.name}"`);
  const sub = subresource ?? '';
  const findPod = (podName: string) => (existing && existing.metadata?.name === podName && type.plural === 'pods' ? existing : store?.get(podKey, namespace, podName));

  switch (`${type.group}/${type.plural}`) {
    case '/pods':
      if (sub === '') {
        if (op === 'CREATE') return admitMirrorPod(node, incoming, deny, store);
        if (op === 'DELETE') {
          const pod = findPod(name);
          if (!pod) return notFound('pods', '', name);
          return pod.spec?.nodeName === node ? undefined : deny(`node "${node}" can only delete pods with spec.nodeName set to itself`);
        }
        return deny(`unexpected operation "${op}", node "${node}" can only create and delete mirror pods`);
      }
      if (sub === 'status') {
        if (op !== 'UPDATE') return deny(`unexpected operation "${op}"`);
        const old = findPod(name);
        if (old?.spec?.nodeName !== node) return deny(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
        if (!sameSemantically(old.metadata.labels, incoming?.metadata?.labels)) return deny(`node "${node}" cannot update labels through pod status`);
        if (!sameSemantically(old.status?.resourceClaimStatuses, incoming?.status?.resourceClaimStatuses)) {
          return deny(`node "${node}" cannot update resource claim statues`);
        }
        return undefined;
      }
      if (sub === 'eviction') {
        if (op !== 'CREATE') return deny(`unexpected operation ${op}`);
        const podName = name || incoming?.metadata?.name;
        if (!podName) return deny('could not determine pod from request data');
        const pod = findPod(podName);
        if (!pod) return notFound('pods', '', podName);
        return pod.spec?.nodeName === node ? undefined : deny(`node ${node} can only evict pods with spec.nodeName set to itself`);
      }
      return deny(`unexpected pod subresource "${sub}", only 'status' and 'eviction' are allowed`);

    case '/nodes':
      return admitNode(node, op, name || incoming?.metadata?.name || '', incoming, existing, deny);

    case '/persistentvolumeclaims':
      if (sub !== 'status') return deny('may only update PVC status');
      if (op !== 'UPDATE') return deny(`unexpected operation "${op}"`);
      return admitClaimStatus(node, incoming, existing, deny);

    case '/serviceaccounts':
      if (op !== 'CREATE' || sub !== 'token') return undefined;
      return admitTokenRequest(node, namespace, incoming, deny, store);

    case 'coordination.k8s.io/leases': {
      if (namespace !== nodeLeaseNamespace) return deny(`can only access leases in the "${nodeLeaseNamespace}" system namespace`);
      const leaseName = op === 'CREATE' ? incoming?.metadata?.name : name;
      return leaseName === node ? undefined : deny('can only access node lease with the same name as the requesting node');
    }
  }
  return undefined;
}

type Deny = (why: string) => ApiError;

function admitMirrorPod(node: string, pod: KubeObject | undefined, deny: Deny, store?: ObjectStore): ApiError | undefined {
  if (!pod) return deny('unexpected type <nil>');
  if (pod.metadata.annotations?.[mirrorPodAnnotation] === undefined) {
    return deny(`pod does not have "${mirrorPodAnnotation}" annotation, node "${node}" can only create mirror pods`);
  }
  if (pod.spec?.nodeName !== node) return deny(`node "${node}" can only create pods with spec.nodeName set to itself`);
  const owners: any[] = Array.isArray(pod.metadata.ownerReferences) ? pod.metadata.ownerReferences : [];
  if (owners.length > 1) return deny(`node "${node}" can only create pods with a single owner reference set to itself`);
  if (owners.length === 0) return deny(`node "${node}" can only create pods with an owner reference set to itself`);
  const owner = owners[0] ?? {};
  if (owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== node) {
    return deny(`node "${node}" can only create pods with an owner reference set to itself`);
  }
  if (owner.controller !== true) return deny(`node "${node}" can only create pods with a controller owner reference set to itself`);
  if (owner.blockOwnerDeletion === true) return deny(`node "${node}" must not set blockOwnerDeletion on an owner reference`);
  if (store) {
    const nodeObject = store.get(nodeKey, '', node);
    if (!nodeObject) return notFound('nodes', '', node);
    if (owner.uid !== nodeObject.metadata.uid) return deny(`node ${node} UID mismatch: expected ${owner.uid} got ${nodeObject.metadata.uid}`);
  }
  // A node must not be able to grant itself access to other objects through a pod it makes.
  if (pod.spec?.serviceAccountName) return deny(`node "${node}" can not create pods that reference a service account`);
  if (podSecretNames(pod).length) return deny(`node "${node}" can not create pods that reference secrets`);
  if (podConfigMapNames(pod).length) return deny(`node "${node}" can not create pods that reference configmaps`);
  const volumes: any[] = Array.isArray(pod.spec?.volumes) ? pod.spec.volumes : [];
  if (volumes.some((v) => (v?.projected?.sources ?? []).some((s: any) => s?.clusterTrustBundle))) {
    return deny(`node "${node}" can not create pods that reference clustertrustbundles`);
  }
  if (volumes.some((v) => v?.persistentVolumeClaim)) return deny(`node "${node}" can not create pods that reference persistentvolumeclaims`);
  return undefined;
}

function admitNode(node: string, op: Operation, requested: string, incoming: KubeObject | undefined, existing: KubeObject | undefined, deny: Deny): ApiError | undefined {
  if (requested !== node) return deny(`node "${node}" is not allowed to modify node "${requested}"`);
  if (op === 'CREATE') {
    if (incoming?.spec?.configSource) return deny(`node "${node}" is not allowed to create pods with a non-nil configSource`);
    const labels = forbiddenLabels(incoming?.metadata?.labels);
    if (labels.length) return deny(`node "${node}" is not allowed to set the following labels: ${labels.join(', ')}`);
  }
  if (op === 'UPDATE') {
    const configSource = incoming?.spec?.configSource;
    if (configSource && !sameSemantically(configSource, existing?.spec?.configSource)) {
      return deny(`node "${node}" is not allowed to update configSource to a new non-nil configSource`);
    }
    if (!sameSemantically(incoming?.spec?.taints, existing?.spec?.taints)) return deny(`node "${node}" is not allowed to modify taints`);
    const labels = forbiddenLabels(incoming?.metadata?.labels, existing?.metadata?.labels);
    if (labels.length) return deny(`is not allowed to modify labels: ${labels.join(', ')}`);
  }
  return undefined;
}

/** A node may change only a claim's status.capacity and status.conditions (and the expansion-recovery fields). */
function admitClaimStatus(node: string, incoming: KubeObject | undefined, existing: KubeObject | undefined, deny: Deny): ApiError | undefined {
  const comparable = (pvc: KubeObject | undefined) => {
    const c = structuredClone(pvc ?? { metadata: {} });
    delete c.metadata.resourceVersion;
    delete c.metadata.managedFields;
    for (const k of ['capacity', 'conditions', 'allocatedResourceStatuses', 'allocatedResources']) delete c.status?.[k];
    return c;
  };
  const [before, after] = [comparable(existing), comparable(incoming)];
  if (sameSemantically(before, after)) return undefined;
  const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !sameSemantically(before[k], after[k]));
  return deny(`node "${node}" is not allowed to update fields other than status.capacity and status.conditions: ${changed.join(', ')} changed`);
}

function admitTokenRequest(node: string, namespace: string, request: KubeObject | undefined, deny: Deny, store?: ObjectStore): ApiError | undefined {
  const ref = request?.spec?.boundObjectRef;
  if (!ref || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name) return deny('node requested token not bound to a pod');
  if (!ref.uid) return deny('node requested token with a pod binding without a uid');
  // Fail closed: without the store the binding cannot be verified.
  if (!store) return deny(`could not look up pod "${ref.name}" to verify the token's binding`);
  const pod = store.get(podKey, namespace, ref.name);
  if (!pod) return notFound('pods', '', ref.name);
  if (ref.uid !== pod.metadata.uid) {
    return deny(`the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  if (pod.spec?.nodeName !== node) return deny('node requested token bound to a pod scheduled on a different node');
  return undefined;
}
