// The Node authorizer: what a kubelet reaches through the pods bound to it (the graph), what
// it may read of nodes and pods, and its answers through the whole authorization chain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestAttributes, UserInfo } from '../../src/apiserver/auth/attributes.ts';
import { createAuthorizer, ensureBootstrapPolicy } from '../../src/apiserver/auth/authorizer-chain.ts';
import { createNodeAuthorizer, nodeIdentity } from '../../src/apiserver/auth/node-authorizer.ts';
import { podClaimNames, podConfigMapNames, podSecretNames, pvSecretRefs } from '../../src/apiserver/auth/node-graph.ts';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { ObjectStore } from '../../src/apiserver/store.ts';

const n1: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

function attrs(verb: string, resourcePath: string, namespace: string, name: string, extra: Partial<RequestAttributes> = {}): RequestAttributes {
  const [resource, subresource = ''] = resourcePath.split('/');
  return { user: n1, verb, resourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', resource, subresource, namespace, name, ...extra };
}

const type = (plural: string, group = '') => resourceTypes.find((t) => t.plural === plural && t.group === group)!;

function cluster() {
  const store = new ObjectStore();
  const resources = new ResourceService(store);
  for (const name of ['default', 'kube-node-lease', 'other']) resources.create(type('namespaces'), '', { metadata: { name } });
  ensureBootstrapPolicy(resources);
  // ServiceAccount admission refuses pods of accounts that do not exist.
  resources.create(type('serviceaccounts'), 'default', { metadata: { name: 'runner' } });
  const pod = (name: string, nodeName: string | undefined, spec: Record<string, unknown> = {}, annotations?: Record<string, string>) =>
    resources.create(type('pods'), 'default', {
      metadata: { name, ...(annotations ? { annotations } : {}) },
      spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox' }], ...spec },
    });
  return { store, resources, pod };
}

const everyReference = {
  imagePullSecrets: [{ name: 'pull' }],
  serviceAccountName: 'runner',
  initContainers: [{ name: 'init', image: 'busybox', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'init-env', key: 'k' } } }] }],
  containers: [{
    name: 'c', image: 'busybox',
    env: [{ name: 'B', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'k' } } }],
    envFrom: [{ secretRef: { name: 'env-from' } }, { configMapRef: { name: 'env-from-cm' } }],
  }],
  volumes: [
    { name: 'v1', secret: { secretName: 'vol' } },
    { name: 'v2', configMap: { name: 'vol-cm' } },
    { name: 'v3', projected: { sources: [{ secret: { name: 'proj' } }, { configMap: { name: 'proj-cm' } }, { serviceAccountToken: { path: 't' } }] } },
    { name: 'v4', persistentVolumeClaim: { claimName: 'data' } },
    { name: 'v5', csi: { driver: 'd', nodePublishSecretRef: { name: 'csi' } } },
    { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } },
  ],
};

test('the graph finds every reference a pod makes', () => {
  const pod = { metadata: { name: 'web' }, spec: everyReference };
  assert.deepEqual(podSecretNames(pod).sort(), ['csi', 'env-from', 'init-env', 'proj', 'pull', 'vol']);
  assert.deepEqual(podConfigMapNames(pod).sort(), ['env-cm', 'env-from-cm', 'proj-cm', 'vol-cm']);
  assert.deepEqual(podClaimNames(pod), ['data', 'web-scratch']);
  const pv = { metadata: { name: 'pv1' }, spec: { claimRef: { namespace: 'default', name: 'data' }, csi: {
    nodePublishSecretRef: { name: 'mount' }, controllerPublishSecretRef: { name: 'controller' } }, rbd: { secretRef: { name: 'ceph', namespace: 'storage' } } } };
  assert.deepEqual(pvSecretRefs(pv).map((r) => `${r.namespace}/${r.name}`).sort(), ['default/mount', 'storage/ceph']);
});

test('a node reads a secret, configmap or claim only while a pod bound to it references it', () => {
  const { store, resources, pod } = cluster();
  const authorizer = createNodeAuthorizer(store);
  const noRelationship = { decision: 'noOpinion', reason: "no relationship found between node 'n1' and this object" };
  assert.deepEqual(authorizer.authorize(attrs('get', 'secrets', 'default', 'vol')), noRelationship);

  pod('web', 'n1', everyReference);
  pod('elsewhere', 'n2', { volumes: [{ name: 'v', secret: { secretName: 'n2-only' } }] });
  pod('pending', undefined, { volumes: [{ name: 'v', secret: { secretName: 'unscheduled' } }] });
  for (const name of ['pull', 'init-env', 'env-from', 'vol', 'proj', 'csi']) {
    assert.equal(authorizer.authorize(attrs('get', 'secrets', 'default', name)).decision, 'allow', name);
  }
  for (const name of ['env-cm', 'env-from-cm', 'vol-cm', 'proj-cm']) {
    assert.equal(authorizer.authorize(attrs('get', 'configmaps', 'default', name)).decision, 'allow', name);
  }
  assert.equal(authorizer.authorize(attrs('watch', 'secrets', 'default', 'vol')).decision, 'allow', 'a single-object watch');
  assert.deepEqual(authorizer.authorize(attrs('get', 'secrets', 'default', 'n2-only')), noRelationship);
  assert.deepEqual(authorizer.authorize(attrs('get', 'secrets', 'default', 'unscheduled')), noRelationship);
  assert.deepEqual(authorizer.authorize(attrs('get', 'secrets', 'other', 'vol')), noRelationship, 'same name, other namespace');
  assert.deepEqual(authorizer.authorize(attrs('list', 'secrets', 'default', '')), { decision: 'noOpinion', reason: 'No Object name found' });
  assert.deepEqual(authorizer.authorize(attrs('list', 'secrets', '', '')), { decision: 'noOpinion', reason: 'can only read namespaced object of this type' });
  assert.deepEqual(authorizer.authorize(attrs('update', 'secrets', 'default', 'vol')), { decision: 'noOpinion', reason: 'can only read resources of this type' });

  assert.equal(authorizer.authorize(attrs('get', 'persistentvolumeclaims', 'default', 'data')).decision, 'allow');
  assert.equal(authorizer.authorize(attrs('get', 'persistentvolumeclaims', 'default', 'web-scratch')).decision, 'allow');
  assert.deepEqual(authorizer.authorize(attrs('list', 'persistentvolumeclaims', 'default', '')),
    { decision: 'noOpinion', reason: 'can only get individual resources of this type' });

  // The relationship ends with the pod.
  resources.delete(type('pods'), 'default', 'web', { gracePeriodSeconds: 0 });
  assert.deepEqual(authorizer.authorize(attrs('get', 'secrets', 'default', 'vol')), noRelationship);
});

test('persistent volumes and their secrets are reached through a bound claim', () => {
  const { store, pod } = cluster();
  const authorizer = createNodeAuthorizer(store);
  store.create('persistentvolumes', { metadata: { name: 'pv1' }, spec: { claimRef: { namespace: 'default', name: 'data' }, csi: { driver: 'd', nodeStageSecretRef: { name: 'stage' } } } });
  assert.equal(authorizer.authorize(attrs('get', 'persistentvolumes', '', 'pv1')).decision, 'noOpinion');
  pod('db', 'n1', { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] });
  assert.equal(authorizer.authorize(attrs('get', 'persistentvolumes', '', 'pv1')).decision, 'allow');
  assert.equal(authorizer.authorize(attrs('get', 'secrets', 'default', 'stage')).decision, 'allow');
  assert.equal(authorizer.authorize(attrs('get', 'persistentvolumes', '', 'pv2')).decision, 'noOpinion');
});

test('mirror pods grant their node nothing but themselves', () => {
  const { store } = cluster();
  const authorizer = createNodeAuthorizer(store);
  // Stored directly: admission refuses mirror pods that reference secrets, and the graph must not depend on that.
  store.create('pods', {
    metadata: { name: 'static-web', namespace: 'default', annotations: { 'kubernetes.io/config.mirror': 'hash' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'v', secret: { secretName: 'sneaky' } }] },
  });
  assert.equal(authorizer.authorize(attrs('get', 'secrets', 'default', 'sneaky')).decision, 'noOpinion');
  assert.equal(authorizer.authorize(attrs('get', 'pods', 'default', 'static-web')).decision, 'allow');
});

test('service-account tokens only for accounts of pods bound to the node', () => {
  const { store, pod } = cluster();
  const authorizer = createNodeAuthorizer(store);
  pod('web', 'n1', { serviceAccountName: 'runner' });
  assert.equal(authorizer.authorize(attrs('create', 'serviceaccounts/token', 'default', 'runner')).decision, 'allow');
  assert.deepEqual(authorizer.authorize(attrs('create', 'serviceaccounts/token', 'default', 'admin')),
    { decision: 'noOpinion', reason: "no relationship found between node 'n1' and this object" });
  assert.deepEqual(authorizer.authorize(attrs('get', 'serviceaccounts', 'default', 'runner')),
    { decision: 'noOpinion', reason: 'can only create tokens for individual service accounts' });
});

test('a node reads only its own Node, lists only its own pods, and holds only its own lease', () => {
  const { store, pod } = cluster();
  const authorizer = createNodeAuthorizer(store);
  const reason = (a: RequestAttributes) => authorizer.authorize(a);
  assert.equal(reason(attrs('get', 'nodes', '', 'n1')).decision, 'allow');
  assert.deepEqual(reason(attrs('get', 'nodes', '', 'n2')), { decision: 'noOpinion', reason: "node 'n1' cannot read 'n2', only its own Node object" });
  assert.deepEqual(reason(attrs('list', 'nodes', '', '')), { decision: 'noOpinion', reason: "node 'n1' cannot read all nodes, only its own Node object" });
  assert.equal(reason(attrs('patch', 'nodes/status', '', 'n1')).decision, 'allow');
  assert.equal(reason(attrs('create', 'nodes', '', '')).decision, 'allow');
  assert.deepEqual(reason(attrs('delete', 'nodes', '', 'n1')), { decision: 'noOpinion', reason: '' });
  assert.deepEqual(reason(attrs('get', 'nodes/proxy', '', 'n1')), { decision: 'noOpinion', reason: '' });

  const mine = [{ field: 'spec.nodeName', negate: false, value: 'n1' }];
  assert.equal(reason(attrs('watch', 'pods', '', '', { fieldSelector: mine })).decision, 'allow');
  assert.deepEqual(reason(attrs('list', 'pods', '', '', { fieldSelector: [{ field: 'spec.nodeName', negate: false, value: 'n2' }] })),
    { decision: 'noOpinion', reason: 'can only list/watch pods with spec.nodeName field selector' });
  assert.deepEqual(reason(attrs('list', 'pods', '', '', { fieldSelector: [{ field: 'spec.nodeName', negate: true, value: 'n1' }] })),
    { decision: 'noOpinion', reason: 'can only list/watch pods with spec.nodeName field selector' });
  pod('web', 'n1');
  pod('theirs', 'n2');
  assert.equal(reason(attrs('get', 'pods', 'default', 'web')).decision, 'allow');
  assert.equal(reason(attrs('get', 'pods', 'default', 'theirs')).decision, 'noOpinion');
  assert.equal(reason(attrs('patch', 'pods/status', 'default', 'theirs')).decision, 'allow', 'left to NodeRestriction');
  assert.equal(reason(attrs('create', 'pods', 'default', '')).decision, 'allow', 'mirror pods, left to NodeRestriction');
  assert.deepEqual(reason(attrs('update', 'pods', 'default', 'web')), { decision: 'noOpinion', reason: '' });

  const lease = (verb: string, namespace: string, name: string) => reason(attrs(verb, 'leases', namespace, name, { apiGroup: 'coordination.k8s.io' }));
  assert.equal(lease('update', 'kube-node-lease', 'n1').decision, 'allow');
  assert.equal(lease('create', 'kube-node-lease', '').decision, 'allow');
  assert.deepEqual(lease('update', 'kube-node-lease', 'n2'), { decision: 'noOpinion', reason: 'can only access node lease with the same name as the requesting node' });
  assert.deepEqual(lease('get', 'default', 'n1'), { decision: 'noOpinion', reason: 'can only access leases in the "kube-node-lease" system namespace' });
  assert.deepEqual(lease('list', 'kube-node-lease', ''), { decision: 'noOpinion', reason: 'can only get, create, update, patch, or delete a node lease' });

  // Everything else: the node rules.
  assert.equal(reason(attrs('create', 'events', 'default', '')).decision, 'allow');
  assert.equal(reason(attrs('list', 'runtimeclasses', '', '', { apiGroup: 'node.k8s.io' })).decision, 'allow');
  assert.equal(reason(attrs('delete', 'events', 'default', 'e')).decision, 'noOpinion');
  assert.equal(reason(attrs('create', 'tokenreviews', '', '', { apiGroup: 'authentication.k8s.io' })).decision, 'allow');
});

test('only users in system:nodes named system:node:<name> are nodes', () => {
  assert.deepEqual(nodeIdentity(n1), { isNode: true, nodeName: 'n1' });
  assert.deepEqual(nodeIdentity({ name: 'system:node:n1', groups: [] }), { isNode: false, nodeName: '' });
  assert.deepEqual(nodeIdentity({ name: 'n1', groups: ['system:nodes'] }), { isNode: false, nodeName: '' });
  assert.deepEqual(nodeIdentity({ name: 'system:node:', groups: ['system:nodes'] }), { isNode: true, nodeName: '' });
  const authorizer = createNodeAuthorizer(new ObjectStore());
  assert.deepEqual(authorizer.authorize(attrs('get', 'nodes', '', 'x', { user: { name: 'system:node:', groups: ['system:nodes'] } })),
    { decision: 'noOpinion', reason: 'unknown node for user "system:node:"' });
  assert.deepEqual(authorizer.authorize(attrs('get', 'nodes', '', 'x', { user: { name: 'alice', groups: [] } })), { decision: 'noOpinion', reason: '' });
});

test('through the chain, a node denied by the graph keeps the graph\'s reason; RBAC may still grant it more', () => {
  const { store, resources, pod } = cluster();
  const authorizer = createAuthorizer(store);
  pod('web', 'n1', { volumes: [{ name: 'v', secret: { secretName: 'db' } }] });
  assert.equal(authorizer.authorize(attrs('get', 'secrets', 'default', 'db')).decision, 'allow');
  assert.deepEqual(authorizer.authorize(attrs('get', 'secrets', 'default', 'other')),
    { decision: 'noOpinion', reason: "no relationship found between node 'n1' and this object" });
  assert.deepEqual(authorizer.authorize(attrs('get', 'nodes/proxy', '', 'n1')), { decision: 'noOpinion', reason: '' },
    'system:node is not bound: the node rules are the Node authorizer\'s alone');
  resources.create(type('clusterrolebindings', 'rbac.authorization.k8s.io'), '', {
    metadata: { name: 'nodes-read-secrets' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', name: 'system:nodes' }],
  });
  assert.equal(authorizer.authorize(attrs('list', 'pods', 'default', '')).decision, 'allow', 'RBAC after the Node authorizer');
});
