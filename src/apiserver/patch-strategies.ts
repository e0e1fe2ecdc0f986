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

const podLists: Record<string, ListStrategy> = {
  ...metadataLists,
  'spec.containers': { mergeKey: 'name' },
  ...under('spec.containers', containerLists),
  'spec.initContainers': { mergeKey: 'name' },
  ...under('spec.initContainers', containerLists),
  'spec.ephemeralContainers': { mergeKey: 'name' },
  ...under('spec.ephemeralContainers', containerLists),
  'spec.volumes': { mergeKey: 'name' },
  'spec.imagePullSecrets': { mergeKey: 'name' },
  'spec.hostAliases': { mergeKey: 'ip' },
  'spec.topologySpreadConstraints': { mergeKey: 'topologyKey' },
  'spec.schedulingGates': { mergeKey: 'name' },
  'spec.resourceClaims': { mergeKey: 'name' },
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
};

/** The merge strategy of the list at path in kind, or undefined when the list is replaced whole. */
export function listStrategy(kind: string, path: string): ListStrategy | undefined {
  return (strategies[kind] ?? metadataLists)[path];
}
