// The default ClusterRoles and ClusterRoleBindings kube-apiserver creates at start (its RBAC
// bootstrap policy, the part a single-node dev cluster uses), plus the binding kubeadm adds so
// the API server's kubelet client may use the node API. admin, edit and view carry the rules
// the aggregation controller would gather into them (aggregationRule is not evaluated here).
import { rbacGroup, resourceKey, resourceTypes, type ResourceType } from '../registry.ts';
import type { ResourceService } from '../resources.ts';
import type { PolicyRule } from './rbac-rules.ts';

const certificates = 'certificates.k8s.io';
const readVerbs = ['get', 'list', 'watch'];
const writeVerbs = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const rule = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule =>
  ({ apiGroups, resources, verbs, ...(resourceNames ? { resourceNames } : {}) });
const urls = (nonResourceURLs: string[], verbs: string[]): PolicyRule => ({ nonResourceURLs, verbs });

const aggregateToView: PolicyRule[] = [
  rule([''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers',
    'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status'], readVerbs),
  rule([''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status',
    'resourcequotas', 'resourcequotas/status'], readVerbs),
  rule([''], ['namespaces'], readVerbs),
  rule(['discovery.k8s.io'], ['endpointslices'], readVerbs),
  rule(['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status',
    'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status'], readVerbs),
  rule(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], readVerbs),
  rule(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], readVerbs),
  rule(['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses',
    'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale'], readVerbs),
  rule(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], readVerbs),
  rule(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], readVerbs),
  // metrics-server's system:aggregated-metrics-reader, which aggregates into view, edit and admin.
  ...aggregatedMetricsReader(),
];

function aggregatedMetricsReader(): PolicyRule[] {
  return [rule(['metrics.k8s.io'], ['pods', 'nodes'], readVerbs)];
}

const aggregateToEdit: PolicyRule[] = [
  rule([''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], readVerbs),
  rule([''], ['serviceaccounts'], ['impersonate']),
  rule([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], writeVerbs),
  rule([''], ['pods/eviction'], ['create']),
  rule([''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets',
    'serviceaccounts', 'services', 'services/proxy'], writeVerbs),
  rule([''], ['serviceaccounts/token'], ['create']),
  rule(['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale',
    'statefulsets', 'statefulsets/scale'], writeVerbs),
  rule(['autoscaling'], ['horizontalpodautoscalers'], writeVerbs),
  rule(['batch'], ['cronjobs', 'jobs'], writeVerbs),
  rule(['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies',
    'replicasets', 'replicasets/scale', 'replicationcontrollers/scale'], writeVerbs),
  rule(['policy'], ['poddisruptionbudgets'], writeVerbs),
  rule(['networking.k8s.io'], ['ingresses', 'networkpolicies'], writeVerbs),
  rule(['coordination.k8s.io'], ['leases'], allVerbs),
];

const aggregateToAdmin: PolicyRule[] = [
  rule(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
  rule([rbacGroup], ['rolebindings', 'roles'], allVerbs),
];

/** What a kubelet may do, kube's NodeRules: the Node authorizer checks node requests against these. */
export const nodeRules: PolicyRule[] = [
  rule(['authentication.k8s.io'], ['tokenreviews'], ['create']),
  rule(['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews'], ['create']),
  rule([''], ['services'], readVerbs),
  rule([''], ['nodes'], ['create', 'get', 'list', 'watch']),
  rule([''], ['nodes/status'], ['patch', 'update']),
  rule([''], ['nodes'], ['patch', 'update']),
  rule([''], ['events'], ['create', 'patch', 'update']),
  rule([''], ['pods'], readVerbs),
  rule([''], ['pods'], ['create', 'delete']),
  rule([''], ['pods/status'], ['patch', 'update']),
  rule([''], ['pods/eviction'], ['create']),
  rule([''], ['configmaps', 'secrets'], readVerbs),
  rule([''], ['persistentvolumeclaims', 'persistentvolumes'], ['get']),
  rule([''], ['endpoints'], ['get']),
  rule(['certificates.k8s.io'], ['certificatesigningrequests'], ['create', 'get', 'list', 'watch']),
  rule(['coordination.k8s.io'], ['leases'], ['create', 'delete', 'get', 'patch', 'update']),
  rule(['storage.k8s.io'], ['volumeattachments'], ['get']),
  rule([''], ['serviceaccounts/token'], ['create']),
  rule([''], ['persistentvolumeclaims/status'], ['get', 'patch', 'update']),
  rule(['storage.k8s.io'], ['csidrivers'], readVerbs),
  rule(['storage.k8s.io'], ['csinodes'], ['create', 'delete', 'get', 'patch', 'update']),
  rule(['node.k8s.io'], ['runtimeclasses'], readVerbs),
];

/** The ClusterRoles created at start, by name. */
export const bootstrapClusterRoles: Record<string, { rules: PolicyRule[]; labels?: Record<string, string> }> = {
  'cluster-admin': { rules: [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])] },
  'admin': { rules: [...aggregateToAdmin, ...aggregateToEdit, ...aggregateToView] },
  'edit': { rules: [...aggregateToEdit, ...aggregateToView], labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } },
  'view': { rules: aggregateToView, labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } },
  'system:aggregate-to-admin': { rules: aggregateToAdmin, labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } },
  'system:aggregate-to-edit': { rules: aggregateToEdit, labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } },
  'system:aggregate-to-view': { rules: aggregateToView, labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
  // Installed by metrics-server's manifest; here the dev control plane serves metrics.k8s.io itself.
  'system:aggregated-metrics-reader': {
    rules: aggregatedMetricsReader(),
    labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
  },
  'system:discovery': {
    rules: [urls(['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], ['get'])],
  },
  'system:public-info-viewer': { rules: [urls(['/healthz', '/livez', '/readyz', '/version', '/version/'], ['get'])] },
  'system:basic-user': {
    rules: [
      rule(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']),
      rule(['authentication.k8s.io'], ['selfsubjectreviews'], ['create']),
    ],
  },
  'system:auth-delegator': {
    rules: [rule(['authentication.k8s.io'], ['tokenreviews'], ['create']), rule(['authorization.k8s.io'], ['subjectaccessreviews'], ['create'])],
  },
  'system:monitoring': {
    rules: [urls(['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'], ['get'])],
  },
  'system:kubelet-api-admin': {
    rules: [
      rule([''], ['nodes'], readVerbs),
      rule([''], ['nodes'], ['proxy']),
      rule([''], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats'], ['*']),
    ],
  },
  // Kept for reference as kube does; nothing binds it (nodes are authorized by the Node authorizer).
  'system:node': { rules: nodeRules },
  // TLS bootstrap: what a bootstrap token's group is bound to (kubeadm binds them; see
  // manifests/rbac/node-bootstrap.yaml), and the rights the CSR approver checks.
  'system:node-bootstrapper': { rules: [rule([certificates], ['certificatesigningrequests'], ['create', 'get', 'list', 'watch'])] },
  'system:certificates.k8s.io:certificatesigningrequests:nodeclient': { rules: [rule([certificates], ['certificatesigningrequests/nodeclient'], ['create'])] },
  'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient': { rules: [rule([certificates], ['certificatesigningrequests/selfnodeclient'], ['create'])] },
  'system:certificates.k8s.io:kube-apiserver-client-approver': { rules: [rule([certificates], ['signers'], ['approve'], ['kubernetes.io/kube-apiserver-client'])] },
  'system:certificates.k8s.io:kube-apiserver-client-kubelet-approver': { rules: [rule([certificates], ['signers'], ['approve'], ['kubernetes.io/kube-apiserver-client-kubelet'])] },
  'system:certificates.k8s.io:kubelet-serving-approver': { rules: [rule([certificates], ['signers'], ['approve'], ['kubernetes.io/kubelet-serving'])] },
};

type BindingSubject = { kind: 'User' | 'Group'; name: string };
const group = (name: string): BindingSubject => ({ kind: 'Group', name });

/** The ClusterRoleBindings created at start: binding name → role and subjects. */
export const bootstrapClusterRoleBindings: Record<string, { role: string; subjects: BindingSubject[] }> = {
  'cluster-admin': { role: 'cluster-admin', subjects: [group('system:masters')] },
  'system:basic-user': { role: 'system:basic-user', subjects: [group('system:authenticated')] },
  'system:discovery': { role: 'system:discovery', subjects: [group('system:authenticated')] },
  'system:public-info-viewer': { role: 'system:public-info-viewer', subjects: [group('system:authenticated'), group('system:unauthenticated')] },
  'system:monitoring': { role: 'system:monitoring', subjects: [group('system:monitoring')] },
  'system:node': { role: 'system:node', subjects: [] },
  // What kubeadm grants the API server's client certificate for kubelets (CN=kube-apiserver-kubelet-client).
  'kube-apiserver-kubelet-api-admin': { role: 'system:kubelet-api-admin', subjects: [{ kind: 'User', name: 'kube-apiserver-kubelet-client' }] },
};

const bootstrapLabels = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const autoupdate = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

const rbacType = (plural: string): ResourceType => resourceTypes.find((t) => t.group === rbacGroup && t.plural === plural)!;

/** Creates the default ClusterRoles and ClusterRoleBindings that are missing; existing ones are left as they are. */
export function ensureBootstrapPolicy(resources: ResourceService): void {
  const roles = rbacType('clusterroles');
  const bindings = rbacType('clusterrolebindings');
  const exists = (t: ResourceType, name: string) => resources.store.get(resourceKey(t), '', name) !== undefined;
  for (const [name, role] of Object.entries(bootstrapClusterRoles)) {
    if (exists(roles, name)) continue;
    resources.create(roles, '', {
      metadata: { name, labels: { ...bootstrapLabels, ...role.labels }, annotations: autoupdate },
      rules: structuredClone(role.rules),
    });
  }
  for (const [name, binding] of Object.entries(bootstrapClusterRoleBindings)) {
    if (exists(bindings, name)) continue;
    resources.create(bindings, '', {
      metadata: { name, labels: bootstrapLabels, annotations: autoupdate },
      roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: binding.role },
      ...(binding.subjects.length ? { subjects: binding.subjects.map((s) => ({ apiGroup: rbacGroup, ...s })) } : {}),
    });
  }
}
