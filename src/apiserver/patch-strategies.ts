// Strategic merge patch metadata of the served kinds: which lists merge, and by which key
// (the patchStrategy / patchMergeKey tags of the Kubernetes API types). Paths are field
// names joined with dots; list elements are entered without an index.

export interface ListStrategy { mergeKey?: string }

const containerLists: Record<string, ListStrategy> = {
  ports: { mergeKey: 'containerPort' },
  env: { mergeKey: 'name' },
  volumeMounts: { mergeKey: 'mountPath' },
  volumeDevices: { mergeKey: 'devicePath' },
};

function under(prefix: string, lists: Record<string, ListStrategy>): Record<string, ListStrategy> {
  return Object.fromEntries(Object.entries(lists).map(([k, v]) => [`${prefix}.${k}`, v]));
}

const metadataLists: Record<string, ListStrategy> = {
  'metadata.ownerReferences': { mergeKey: 'uid' },
  'metadata.finalizers': {},
};

const podSpecLists: Record<string, ListStrategy> = {
  containers: { mergeKey: 'name' },
  ...under('containers', containerLists),
  initContainers: { mergeKey: 'name' },
  ...under('initContainers', containerLists),
  ephemeralContainers: { mergeKey: 'name' },
  ...under('ephemeralContainers', containerLists),
  volumes: { mergeKey: 'name' },
  imagePullSecrets: { mergeKey: 'name' },
  hostAliases: { mergeKey: 'ip' },
  topologySpreadConstraints: { mergeKey: 'topologyKey' },
  schedulingGates: { mergeKey: 'name' },
  resourceClaims: { mergeKey: 'name' },
};

const podLists: Record<string, ListStrategy> = {
  ...metadataLists,
  ...under('spec', podSpecLists),
  'status.conditions': { mergeKey: 'type' },
  'status.podIPs': { mergeKey: 'ip' },
  'status.hostIPs': { mergeKey: 'ip' },
  'status.containerStatuses': { mergeKey: 'name' },
  'status.initContainerStatuses': { mergeKey: 'name' },
  'status.ephemeralContainerStatuses': { mergeKey: 'name' },
};

const nodeLists: Record<string, ListStrategy> = {
  ...metadataLists,
  'spec.podCIDRs': {},
  'status.conditions': { mergeKey: 'type' },
  'status.addresses': { mergeKey: 'type' },
};

const strategies: Record<string, Record<string, ListStrategy>> = {
  Pod: podLists,
  Node: nodeLists,
  ServiceAccount: { ...metadataLists, secrets: { mergeKey: 'name' } },
  Namespace: { ...metadataLists, 'status.conditions': { mergeKey: 'type' } },
  PersistentVolumeClaim: { ...metadataLists, 'status.conditions': { mergeKey: 'type' } },
  // Service ports merge by port number (their list-map key adds the protocol; patches use the port).
  Service: { ...metadataLists, 'spec.ports': { mergeKey: 'port' }, 'status.conditions': { mergeKey: 'type' } },
  PodTemplate: { ...metadataLists, ...under('template.metadata', { ownerReferences: { mergeKey: 'uid' }, finalizers: {} }), ...under('template.spec', podSpecLists) },
};

/** The merge strategy of the list at path in kind, or undefined when the list is replaced whole. */
export function listStrategy(kind: string, path: string): ListStrategy | undefined {
  return (strategies[kind] ?? metadataLists)[path];
}
