// API discovery: the legacy documents (/api, /apis, /api/v1, /apis/<group>/<version>) and the
// aggregated apidiscovery.k8s.io/v2 form kubectl 1.32 asks for first.
import { apiVersionOf, groupVersions, resourceTypes, type ResourceType } from './registry.ts';

export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-mini-kubelet',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

interface Subresource { name: string; kind: string; verbs: string[]; group?: string; version?: string }

function subresourcesOf(t: ResourceType): Subresource[] {
  return t.subresources.map((s) => {
    if (s === 'binding') return { name: s, kind: 'Binding', verbs: ['create'] };
    if (s === 'finalize') return { name: s, kind: t.kind, verbs: ['update'] };
    if (s === 'log') return { name: s, kind: t.kind, verbs: ['get'] };
    if (s === 'proxy') return { name: s, kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] };
    if (s === 'token') return { name: s, kind: 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1' };
    return { name: s, kind: t.kind, verbs: ['get', 'patch', 'update'] };
  });
}

function typesOf(group: string, version: string): ResourceType[] {
  return resourceTypes.filter((t) => t.group === group && t.version === version);
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(group: string) {
  const versions = groupVersions().filter((gv) => gv.group === group).map((gv) => ({ groupVersion: `${group}/${gv.version}`, version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupDocument(group: string) {
  if (!groupVersions().some((gv) => gv.group === group && group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group) };
}

export function apiGroupList() {
  const groups = [...new Set(groupVersions().map((gv) => gv.group).filter((g) => g))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(apiGroup) };
}

export function apiResourceList(group: string, version: string) {
  const types = typesOf(group, version);
  if (!types.length) return undefined;
  const resources = types.flatMap((t) => [
    {
      name: t.plural, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length ? { categories: t.categories } : {}),
    },
    ...subresourcesOf(t).map((s) => ({
      name: `${t.plural}/${s.name}`, singularName: '', namespaced: t.namespaced, ...(s.group ? { group: s.group, version: s.version } : {}), kind: s.kind, verbs: s.verbs,
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(types[0]), resources };
}

export const aggregatedDiscoveryType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** Whether the Accept header asks for aggregated discovery v2 (the only version served). */
export function wantsAggregatedDiscovery(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const params = part.split(';').map((p) => p.trim());
    return params.includes('g=apidiscovery.k8s.io') && params.includes('v=v2') && params.includes('as=APIGroupDiscoveryList');
  });
}

/** Aggregated discovery for the core group (/api) or for all named groups (/apis). */
export function aggregatedDiscovery(core: boolean) {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))].filter((g) => (core ? g === '' : g !== ''));
  const items = groups.map((group) => ({
    metadata: { name: group },
    versions: groupVersions().filter((gv) => gv.group === group).map((gv) => ({
      version: gv.version,
      freshness: 'Current',
      resources: typesOf(group, gv.version).map((t) => ({
        resource: t.plural,
        responseKind: { group: t.group, version: t.version, kind: t.kind },
        scope: t.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: t.singular,
        verbs: t.verbs,
        ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
        ...(t.categories.length ? { categories: t.categories } : {}),
        subresources: subresourcesOf(t).map((s) => ({
          subresource: s.name,
          responseKind: { group: s.group ?? (s.kind === 'Binding' ? '' : t.group), version: s.version ?? t.version, kind: s.kind },
          verbs: s.verbs,
        })),
      })),
    })),
  }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}
