// The kinds this server serves, with the metadata discovery, routing and kubectl need:
// group/version, plural, scope, short names, subresources and selectable fields.

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Subresources beyond the object itself; "status" splits status from the main resource. */
  subresources: string[];
  /** Field selector labels beyond metadata.name and metadata.namespace. */
  fieldSelectors: string[];
  /** PUT may create the object when it does not exist (kube: AllowCreateOnUpdate). */
  createOnUpdate: boolean;
  /** The verbs discovery lists; reviews are create-only and never stored. */
  verbs: string[];
}

export const objectVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function type(t: Partial<ResourceType> & Pick<ResourceType, 'kind' | 'plural' | 'namespaced'>): ResourceType {
  return {
    group: '', version: 'v1', singular: t.kind.toLowerCase(), shortNames: [], categories: [], subresources: [],
    fieldSelectors: [], createOnUpdate: false, verbs: objectVerbs, ...t,
  };
}

const eventFields = ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
  'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent',
  'source', 'type'];

export const rbacGroup = 'rbac.authorization.k8s.io';
export const certificatesGroup = 'certificates.k8s.io';

export const resourceTypes: ResourceType[] = [
  type({ kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'], fieldSelectors: ['status.phase'] }),
  type({ kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding', 'log', 'exec', 'attach', 'portforward', 'ephemeralcontainers'],
    fieldSelectors: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork',
      'status.phase', 'status.podIP', 'status.nominatedNodeName'] }),
  type({ kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], subresources: ['status', 'proxy'], fieldSelectors: ['spec.unschedulable'] }),
  type({ kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'], fieldSelectors: eventFields, createOnUpdate: true }),
  type({ kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'] }),
  type({ kind: 'Secret', plural: 'secrets', namespaced: true, fieldSelectors: ['type'] }),
  type({ kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  type({ kind: 'PodTemplate', plural: 'podtemplates', namespaced: true }),
  type({ kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'], subresources: ['token'] }),
  // Both kinds also select on the legacy "name" field, as kube-apiserver's storage does.
  type({ kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, shortNames: ['pv'], subresources: ['status'], fieldSelectors: ['name'] }),
  type({ kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'], subresources: ['status'], fieldSelectors: ['name'] }),
  type({ group: 'events.k8s.io', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'], createOnUpdate: true,
    fieldSelectors: ['regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid', 'regarding.apiVersion',
      'regarding.resourceVersion', 'regarding.fieldPath', 'reason', 'reportingController', 'type'] }),
  type({ group: 'coordination.k8s.io', kind: 'Lease', plural: 'leases', namespaced: true }),
  type({ group: 'node.k8s.io', kind: 'RuntimeClass', plural: 'runtimeclasses', namespaced: false }),
  type({ group: certificatesGroup, kind: 'CertificateSigningRequest', plural: 'certificatesigningrequests', namespaced: false, shortNames: ['csr'],
    subresources: ['status', 'approval'], fieldSelectors: ['spec.signerName'] }),
  ...reviewTypes(),
  // Served by metrics-api.ts from the nodes' /metrics/resource, never stored (metrics-server's API).
  type({ group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics', plural: 'nodes', singular: '', namespaced: false, verbs: ['get', 'list'] }),
  type({ group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics', plural: 'pods', singular: '', namespaced: true, verbs: ['get', 'list'] }),
  type({ group: rbacGroup, kind: 'Role', plural: 'roles', namespaced: true }),
  type({ group: rbacGroup, kind: 'RoleBinding', plural: 'rolebindings', namespaced: true }),
  type({ group: rbacGroup, kind: 'ClusterRole', plural: 'clusterroles', namespaced: false }),
  type({ group: rbacGroup, kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false }),
];

/** Create-only kinds answered at once, never stored: authentication and authorization reviews. */
function reviewTypes(): ResourceType[] {
  const review = (group: string, kind: string, namespaced = false) =>
    type({ group, kind, plural: `${kind.toLowerCase()}s`, namespaced, verbs: ['create'] });
  return [
    review('authentication.k8s.io', 'TokenReview'),
    review('authentication.k8s.io', 'SelfSubjectReview'),
    review('authorization.k8s.io', 'SubjectAccessReview'),
    review('authorization.k8s.io', 'SelfSubjectAccessReview'),
    review('authorization.k8s.io', 'LocalSubjectAccessReview', true),
  ];
}

/** Kinds computed on each request from the nodes (metrics.k8s.io), never stored. */
export function isMetricsType(t: ResourceType): boolean {
  return t.group === 'metrics.k8s.io';
}

export function isReviewType(t: ResourceType): boolean {
  return t.verbs.length === 1 && t.verbs[0] === 'create';
}

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** A stable key per served resource, e.g. "pods" or "events.events.k8s.io". */
export function resourceKey(t: ResourceType): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

export function findResourceType(group: string, version: string, plural: string): ResourceType | undefined {
  return resourceTypes.find((t) => t.group === group && t.version === version && t.plural === plural);
}

export function findResourceTypeByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return resourceTypes.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}

/** Group-versions served, the core group first, as discovery lists them. */
export function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of resourceTypes) seen.set(`${t.group}/${t.version}`, { group: t.group, version: t.version });
  return [...seen.values()];
}
