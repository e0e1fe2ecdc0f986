// Server-side printing (Accept: application/json;as=Table;g=meta.k8s.io;v=v1): the columns
// kube-apiserver shows for each kind, so `kubectl get` (and -o wide, priority 1) looks the same.
import type { ResourceType } from './registry.ts';
import { accessModesShort, storageClassOf } from './storage-objects.ts';
import { serviceExternalIPCell, servicePortsCell, serviceSelectorCell } from './service-objects.ts';
import type { KubeObject } from './store.ts';

interface Column { name: string; type: 'string' | 'integer' | 'date'; format?: string; priority?: number; cell: (o: KubeObject, now: Date) => unknown }

export interface TableOptions { includeObject: 'None' | 'Object' | 'Metadata'; noHeaders: boolean }

const none = '<none>';

export function humanDuration(seconds: number): string {
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  const s = Math.floor(seconds);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  if (h < 24 * 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (h < 24 * 365 * 8) return d % 365 ? `${y}y${d % 365}d` : `${y}y`;
  return `${y}y`;
}

function since(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return '<unknown>';
  return humanDuration((now.getTime() - Date.parse(timestamp)) / 1000);
}

const nameColumn: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const ageColumn: Column = { name: 'Age', type: 'string', cell: (o, now) => since(o.metadata.creationTimestamp, now) };

/** The STATUS column of `kubectl get pods`, following kubectl's printPod. */
export function podStatusReason(pod: KubeObject): string {
  const status = pod.status ?? {};
  let reason: string = status.reason || status.phase || 'Pending';
  let initializing = false;
  const inits: any[] = status.initContainerStatuses ?? [];
  inits.forEach((c, i) => {
    if (initializing) return;
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) return;
    if (t) reason = `Init:${t.reason || (t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`)}`;
    else if (w?.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${(pod.spec?.initContainers ?? []).length}`;
    initializing = true;
  });
  if (!initializing) {
    let hasRunning = false;
    for (const c of [...(status.containerStatuses ?? [])].reverse()) {
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (c.state?.running && c.ready) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

const podColumns: Column[] = [
  nameColumn,
  { name: 'Ready', type: 'string', cell: (p) => {
    const total = (p.spec?.containers ?? []).length;
    const ready = (p.status?.containerStatuses ?? []).filter((c: any) => c.ready).length;
    return `${ready}/${total}`;
  } },
  { name: 'Status', type: 'string', cell: podStatusReason },
  { name: 'Restarts', type: 'string', cell: (p) => String((p.status?.containerStatuses ?? []).reduce((n: number, c: any) => n + (c.restartCount ?? 0), 0)) },
  ageColumn,
  { name: 'IP', type: 'string', priority: 1, cell: (p) => p.status?.podIP || none },
  { name: 'Node', type: 'string', priority: 1, cell: (p) => p.spec?.nodeName || none },
  { name: 'Nominated Node', type: 'string', priority: 1, cell: (p) => p.status?.nominatedNodeName || none },
  { name: 'Readiness Gates', type: 'string', priority: 1, cell: (p) => {
    const gates: any[] = p.spec?.readinessGates ?? [];
    if (!gates.length) return none;
    const trueTypes = new Set((p.status?.conditions ?? []).filter((c: any) => c.status === 'True').map((c: any) => c.type));
    return `${gates.filter((g) => trueTypes.has(g.conditionType)).length}/${gates.length}`;
  } },
];

function nodeAddress(n: KubeObject, type: string): string {
  return (n.status?.addresses ?? []).find((a: any) => a.type === type)?.address || none;
}

const nodeColumns: Column[] = [
  nameColumn,
  { name: 'Status', type: 'string', cell: (n) => {
    const ready = (n.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
    let s = !ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown';
    if (n.spec?.unschedulable) s += ',SchedulingDisabled';
    return s;
  } },
  { name: 'Roles', type: 'string', cell: (n) => {
    const roles = Object.keys(n.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice(24));
    return roles.length ? roles.sort().join(',') : none;
  } },
  ageColumn,
  { name: 'Version', type: 'string', cell: (n) => n.status?.nodeInfo?.kubeletVersion ?? '' },
  { name: 'Internal-IP', type: 'string', priority: 1, cell: (n) => nodeAddress(n, 'InternalIP') },
  { name: 'External-IP', type: 'string', priority: 1, cell: (n) => nodeAddress(n, 'ExternalIP') },
  { name: 'OS-Image', type: 'string', priority: 1, cell: (n) => n.status?.nodeInfo?.osImage || '<unknown>' },
  { name: 'Kernel-Version', type: 'string', priority: 1, cell: (n) => n.status?.nodeInfo?.kernelVersion || '<unknown>' },
  { name: 'Container-Runtime', type: 'string', priority: 1, cell: (n) => n.status?.nodeInfo?.containerRuntimeVersion || '<unknown>' },
];

function eventColumns(regardingField: string, messageField: string): Column[] {
  return [
    { name: 'Last Seen', type: 'string', cell: (e, now) => since(e.lastTimestamp || e.eventTime || e.deprecatedLastTimestamp || e.metadata.creationTimestamp, now) },
    { name: 'Type', type: 'string', cell: (e) => e.type ?? '' },
    { name: 'Reason', type: 'string', cell: (e) => e.reason ?? '' },
    { name: 'Object', type: 'string', cell: (e) => `${String(e[regardingField]?.kind ?? '').toLowerCase()}/${e[regardingField]?.name ?? ''}` },
    { name: 'Message', type: 'string', cell: (e) => String(e[messageField] ?? '').trim() },
  ];
}

/** Status of a PV or PVC; Terminating while it waits on finalizers, as kube's printers show it. */
const volumePhase = (o: KubeObject) => (o.metadata.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '');
const unsetOr = (v: unknown) => (v === undefined || v === null ? '<unset>' : String(v));

const persistentVolumeColumns: Column[] = [
  nameColumn,
  { name: 'Capacity', type: 'string', cell: (v) => String(v.spec?.capacity?.storage ?? '0') },
  { name: 'Access Modes', type: 'string', cell: (v) => accessModesShort(v.spec?.accessModes) },
  { name: 'Reclaim Policy', type: 'string', cell: (v) => v.spec?.persistentVolumeReclaimPolicy ?? '' },
  { name: 'Status', type: 'string', cell: volumePhase },
  { name: 'Claim', type: 'string', cell: (v) => (v.spec?.claimRef ? `${v.spec.claimRef.namespace ?? ''}/${v.spec.claimRef.name ?? ''}` : '') },
  { name: 'StorageClass', type: 'string', cell: storageClassOf },
  { name: 'VolumeAttributesClass', type: 'string', cell: (v) => unsetOr(v.spec?.volumeAttributesClassName) },
  { name: 'Reason', type: 'string', cell: (v) => v.status?.reason ?? '' },
  ageColumn,
  { name: 'VolumeMode', type: 'string', priority: 1, cell: (v) => unsetOr(v.spec?.volumeMode) },
];

const persistentVolumeClaimColumns: Column[] = [
  nameColumn,
  { name: 'Status', type: 'string', cell: volumePhase },
  { name: 'Volume', type: 'string', cell: (c) => c.spec?.volumeName ?? '' },
  // Capacity and access modes are what the bound volume gave, blank until then.
  { name: 'Capacity', type: 'string', cell: (c) => (c.spec?.volumeName ? String(c.status?.capacity?.storage ?? '0') : '') },
  { name: 'Access Modes', type: 'string', cell: (c) => (c.spec?.volumeName ? accessModesShort(c.status?.accessModes) : '') },
  { name: 'StorageClass', type: 'string', cell: storageClassOf },
  { name: 'VolumeAttributesClass', type: 'string', cell: (c) => unsetOr(c.spec?.volumeAttributesClassName) },
  ageColumn,
  { name: 'VolumeMode', type: 'string', priority: 1, cell: (c) => unsetOr(c.spec?.volumeMode) },
];

const serviceColumns: Column[] = [
  nameColumn,
  { name: 'Type', type: 'string', cell: (s) => s.spec?.type ?? '' },
  { name: 'Cluster-IP', type: 'string', cell: (s) => s.spec?.clusterIPs?.[0] || none },
  { name: 'External-IP', type: 'string', cell: serviceExternalIPCell },
  { name: 'Port(s)', type: 'string', cell: servicePortsCell },
  ageColumn,
  { name: 'Selector', type: 'string', priority: 1, cell: serviceSelectorCell },
];

/** Labels as kubectl formats them: k=v sorted by key, comma-separated, or <none>. */
function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : none;
}

const podTemplateColumns: Column[] = [
  nameColumn,
  { name: 'Containers', type: 'string', cell: (p) => (p.template?.spec?.containers ?? []).map((c: any) => c?.name ?? '').join(',') },
  { name: 'Images', type: 'string', cell: (p) => (p.template?.spec?.containers ?? []).map((c: any) => c?.image ?? '').join(',') },
  { name: 'Pod Labels', type: 'string', cell: (p) => formatLabels(p.template?.metadata?.labels) },
];

/** kubectl's CSR condition: the decisions (Pending when none), then Issued once signed. */
function csrCondition(c: KubeObject): string {
  const decided = ((c.status?.conditions ?? []) as any[]).filter((x) => x.status === 'True' || x.status === undefined).map((x) => x.type);
  const parts = decided.length ? decided : ['Pending'];
  if (c.status?.certificate) parts.push('Issued');
  return parts.join(',');
}

const createdAtColumn: Column = { name: 'Created At', type: 'date', cell: (o) => o.metadata.creationTimestamp ?? '' };

/** Subjects as kubectl's wide columns list them: users, groups, and service accounts as namespace/name. */
function subjectNames(kind: string): Column['cell'] {
  return (b) => ((b.subjects ?? []) as any[]).filter((s) => s?.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name)).join(', ');
}

const bindingColumns: Column[] = [
  nameColumn,
  { name: 'Role', type: 'string', cell: (b) => `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}` },
  ageColumn,
  { name: 'Users', type: 'string', priority: 1, cell: subjectNames('User') },
  { name: 'Groups', type: 'string', priority: 1, cell: subjectNames('Group') },
  { name: 'ServiceAccounts', type: 'string', priority: 1, cell: subjectNames('ServiceAccount') },
];

const columnsByKind: Record<string, Column[]> = {
  '/Pod': podColumns,
  '/Node': nodeColumns,
  '/Namespace': [nameColumn, { name: 'Status', type: 'string', cell: (n) => n.status?.phase ?? '' }, ageColumn],
  '/ConfigMap': [nameColumn, { name: 'Data', type: 'integer', cell: (c) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length }, ageColumn],
  '/Secret': [nameColumn, { name: 'Type', type: 'string', cell: (s) => s.type ?? '' }, { name: 'Data', type: 'integer', cell: (s) => Object.keys(s.data ?? {}).length }, ageColumn],
  '/PersistentVolume': persistentVolumeColumns,
  '/PersistentVolumeClaim': persistentVolumeClaimColumns,
  '/Service': serviceColumns,
  '/PodTemplate': podTemplateColumns,
  '/ServiceAccount': [nameColumn, { name: 'Secrets', type: 'integer', cell: (s) => (s.secrets ?? []).length }, ageColumn],
  '/Event': eventColumns('involvedObject', 'message'),
  'events.k8s.io/Event': eventColumns('regarding', 'note'),
  'coordination.k8s.io/Lease': [nameColumn, { name: 'Holder', type: 'string', cell: (l) => l.spec?.holderIdentity ?? '' }, ageColumn],
  'node.k8s.io/RuntimeClass': [nameColumn, { name: 'Handler', type: 'string', cell: (r) => r.handler ?? '' }, ageColumn],
  'certificates.k8s.io/CertificateSigningRequest': [
    nameColumn, ageColumn,
    { name: 'SignerName', type: 'string', cell: (c) => c.spec?.signerName ?? '' },
    { name: 'Requestor', type: 'string', cell: (c) => c.spec?.username ?? '' },
    { name: 'RequestedDuration', type: 'string', cell: (c) => (c.spec?.expirationSeconds ? humanDuration(c.spec.expirationSeconds) : none) },
    { name: 'Condition', type: 'string', cell: csrCondition },
  ],
  'rbac.authorization.k8s.io/Role': [nameColumn, createdAtColumn],
  'rbac.authorization.k8s.io/ClusterRole': [nameColumn, createdAtColumn],
  'rbac.authorization.k8s.io/RoleBinding': bindingColumns,
  'rbac.authorization.k8s.io/ClusterRoleBinding': bindingColumns,
};

function columnsOf(t: ResourceType): Column[] {
  return columnsByKind[`${t.group}/${t.kind}`] ?? [nameColumn, ageColumn];
}

function rowObject(o: KubeObject, include: TableOptions['includeObject']): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(t: ResourceType, objects: KubeObject[], listMeta: Record<string, unknown>, opts: TableOptions, now = new Date()) {
  const columns = columnsOf(t);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: opts.noHeaders ? [] : columns.map((c) => ({
      name: c.name, type: c.type, format: c.format ?? '', description: c.name, priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({ cells: columns.map((c) => c.cell(o, now)), object: rowObject(o, opts.includeObject) })),
  };
}

/** Whether the Accept header asks for a meta.k8s.io Table (v1 or v1beta1). */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const params = part.split(';').map((p) => p.trim());
    return params.includes('as=Table') && params.includes('g=meta.k8s.io');
  });
}
