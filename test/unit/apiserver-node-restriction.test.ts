// NodeRestriction admission: a kubelet writes only its own Node and Lease, the status of pods
// bound to it, mirror pods owned by it, and tokens for its pods; refusals read as kube's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UserInfo } from '../../src/apiserver/auth/attributes.ts';
import { nodeRestriction } from '../../src/apiserver/auth/authorizer-chain.ts';
import type { ApiError } from '../../src/apiserver/errors.ts';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { ObjectStore, type KubeObject } from '../../src/apiserver/store.ts';

const n1: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const type = (plural: string, group = '') => resourceTypes.find((t) => t.plural === plural && t.group === group)!;

function cluster() {
  const store = new ObjectStore();
  const resources = new ResourceService(store);
  resources.create(type('namespaces'), '', { metadata: { name: 'default' } });
  const node = resources.create(type('nodes'), '', { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } });
  const pod = (name: string, nodeName: string) => resources.create(type('pods'), 'default', {
    metadata: { name, labels: { app: name } }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
  });
  return { store, node, mine: pod('mine', 'n1'), theirs: pod('theirs', 'n2') };
}

/** The refusal's message, or undefined when admitted; every refusal is a kube-shaped 403 (or a 404). */
function refusal(err: ApiError | undefined): string | undefined {
  if (!err) return undefined;
  if (err.code === 403) {
    assert.equal(err.reason, 'Forbidden');
    assert.ok(err.details?.kind, 'details name the resource');
  }
  return `${err.code} ${err.message}`;
}

function mirrorPod(node: KubeObject, overrides: Record<string, any> = {}): KubeObject {
  return {
    metadata: {
      name: 'static-web', namespace: 'default', annotations: { 'kubernetes.io/config.mirror': 'h' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: node.metadata.uid, controller: true }],
      ...overrides.metadata,
    },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }], ...overrides.spec },
  };
}

test('pods: mirror pods only, bound to and owned by the node, referencing nothing', () => {
  const { store, node } = cluster();
  const create = (pod: KubeObject) => refusal(nodeRestriction(n1, 'create', type('pods'), 'default', '', undefined, pod, undefined, store));
  assert.equal(create(mirrorPod(node)), undefined);
  const cases: Array<[KubeObject, string]> = [
    [{ metadata: { name: 'plain' }, spec: { nodeName: 'n1' } },
      '403 pods "plain" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods'],
    [mirrorPod(node, { spec: { nodeName: 'n2' } }), '403 pods "static-web" is forbidden: node "n1" can only create pods with spec.nodeName set to itself'],
    [mirrorPod(node, { metadata: { ownerReferences: [] } }), '403 pods "static-web" is forbidden: node "n1" can only create pods with an owner reference set to itself'],
    [mirrorPod(node, { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: node.metadata.uid }] } }),
      '403 pods "static-web" is forbidden: node "n1" can only create pods with a controller owner reference set to itself'],
    [mirrorPod(node, { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'stale', controller: true }] } }),
      `403 pods "static-web" is forbidden: node n1 UID mismatch: expected stale got ${node.metadata.uid}`],
    [mirrorPod(node, { spec: { serviceAccountName: 'admin' } }), '403 pods "static-web" is forbidden: node "n1" can not create pods that reference a service account'],
    [mirrorPod(node, { spec: { imagePullSecrets: [{ name: 'creds' }] } }), '403 pods "static-web" is forbidden: node "n1" can not create pods that reference secrets'],
    [mirrorPod(node, { spec: { volumes: [{ name: 'v', configMap: { name: 'cm' } }] } }), '403 pods "static-web" is forbidden: node "n1" can not create pods that reference configmaps'],
    [mirrorPod(node, { spec: { volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'c' } }] } }),
      '403 pods "static-web" is forbidden: node "n1" can not create pods that reference persistentvolumeclaims'],
  ];
  for (const [pod, want] of cases) assert.equal(create(pod), want);
});

test('pods: delete and status only for pods bound to the node', () => {
  const { store, mine, theirs } = cluster();
  const pods = type('pods');
  assert.equal(refusal(nodeRestriction(n1, 'delete', pods, 'default', 'mine', undefined, undefined, mine, store)), undefined);
  assert.equal(refusal(nodeRestriction(n1, 'delete', pods, 'default', 'theirs', undefined, undefined, theirs, store)),
    '403 pods "theirs" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself');
  assert.equal(refusal(nodeRestriction(n1, 'delete', pods, 'default', 'ghost', undefined, undefined, undefined, store)), '404 pods "ghost" not found');
  assert.equal(refusal(nodeRestriction(n1, 'update', pods, 'default', 'mine', undefined, mine, mine, store)),
    '403 pods "mine" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods');

  const withStatus = (p: KubeObject, status: Record<string, unknown>) => ({ ...p, status: { ...p.status, ...status } });
  assert.equal(refusal(nodeRestriction(n1, 'patch', pods, 'default', 'mine', 'status', withStatus(mine, { phase: 'Running' }), mine, store)), undefined);
  assert.equal(refusal(nodeRestriction(n1, 'update', pods, 'default', 'theirs', 'status', withStatus(theirs, { phase: 'Running' }), theirs, store)),
    '403 pods "theirs" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');
  const relabelled = { ...mine, metadata: { ...mine.metadata, labels: { app: 'other' } } };
  assert.equal(refusal(nodeRestriction(n1, 'update', pods, 'default', 'mine', 'status', relabelled, mine, store)),
    '403 pods "mine" is forbidden: node "n1" cannot update labels through pod status');
  assert.equal(refusal(nodeRestriction(n1, 'create', pods, 'default', 'mine', 'binding', { metadata: { name: 'mine' } }, undefined, store)),
    '403 pods "mine" is forbidden: unexpected pod subresource "binding", only \'status\' and \'eviction\' are allowed');
});

test('nodes: only itself, without taints or restricted labels changed', () => {
  const { store, node } = cluster();
  const nodes = type('nodes');
  const write = (verb: string, name: string, incoming: KubeObject | undefined, existing?: KubeObject, sub?: string) =>
    refusal(nodeRestriction(n1, verb, nodes, '', name, sub, incoming, existing, store));
  assert.equal(write('create', '', { metadata: { name: 'n1', labels: { 'kubernetes.io/os': 'linux', 'node.kubernetes.io/pool': 'a', team: 'x' } } }), undefined);
  assert.equal(write('create', '', { metadata: { name: 'n2' } }), '403 nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  assert.equal(write('create', '', { metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/control-plane': '', 'node-restriction.kubernetes.io/gpu': 'y' } } }),
    '403 nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-restriction.kubernetes.io/gpu, node-role.kubernetes.io/control-plane');
  assert.equal(write('delete', 'n2', undefined, node), '403 nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');

  const status = { ...node, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  assert.equal(write('patch', 'n1', status, node, 'status'), undefined);
  const tainted = { ...node, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } };
  assert.equal(write('update', 'n1', tainted, node), '403 nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
  assert.equal(write('update', 'n1', { ...node, spec: { taints: [] } }, node), undefined, 'no taints and an empty list are the same');
  const promoted = { ...node, metadata: { ...node.metadata, labels: { ...node.metadata.labels, 'kubernetes.io/role': 'master' } } };
  assert.equal(write('update', 'n1', promoted, node), '403 nodes "n1" is forbidden: is not allowed to modify labels: kubernetes.io/role');
});

test('leases: its own, in kube-node-lease', () => {
  const { store } = cluster();
  const leases = type('leases', 'coordination.k8s.io');
  const write = (verb: string, namespace: string, name: string, incoming?: KubeObject) =>
    refusal(nodeRestriction(n1, verb, leases, namespace, name, undefined, incoming, undefined, store));
  assert.equal(write('create', 'kube-node-lease', '', { metadata: { name: 'n1' } }), undefined);
  assert.equal(write('update', 'kube-node-lease', 'n1', { metadata: { name: 'n1' } }), undefined);
  assert.equal(write('create', 'kube-node-lease', '', { metadata: { name: 'n2' } }),
    '403 leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node');
  assert.equal(write('delete', 'default', 'n1'),
    '403 leases.coordination.k8s.io "n1" is forbidden: can only access leases in the "kube-node-lease" system namespace');
});

test('tokens: only bound to a pod of the node, with its uid', () => {
  const { store, mine, theirs } = cluster();
  const sa = type('serviceaccounts');
  const request = (ref: Record<string, unknown> | undefined) => ({ metadata: {}, spec: { audiences: ['x'], ...(ref ? { boundObjectRef: ref } : {}) } });
  const ask = (ref: Record<string, unknown> | undefined, withStore = true) =>
    refusal(nodeRestriction(n1, 'create', sa, 'default', 'default', 'token', request(ref), undefined, withStore ? store : undefined));
  const podRef = (p: KubeObject) => ({ apiVersion: 'v1', kind: 'Pod', name: p.metadata.name, uid: p.metadata.uid });
  assert.equal(ask(podRef(mine)), undefined);
  assert.equal(ask(undefined), '403 serviceaccounts "default" is forbidden: node requested token not bound to a pod');
  assert.equal(ask({ ...podRef(mine), uid: '' }), '403 serviceaccounts "default" is forbidden: node requested token with a pod binding without a uid');
  assert.equal(ask({ ...podRef(mine), uid: 'old' }),
    '403 serviceaccounts "default" is forbidden: the UID in the bound object reference (old) does not match the UID in record. The object might have been deleted and then recreated');
  assert.equal(ask(podRef(theirs)), '403 serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled on a different node');
  assert.match(ask(podRef(mine), false)!, /^403 .*could not look up pod "mine"/, 'fails closed without the store');
  assert.equal(refusal(nodeRestriction(n1, 'update', sa, 'default', 'default', undefined, { metadata: { name: 'default' } }, undefined, store)), undefined,
    'other service-account writes are the authorizer\'s business');
});

test('users that are not nodes pass untouched; a node without a name is refused', () => {
  const { store, theirs } = cluster();
  const pods = type('pods');
  const admin = { name: 'kubernetes-admin', groups: ['system:masters'] };
  assert.equal(nodeRestriction(admin, 'delete', pods, 'default', 'theirs', undefined, undefined, theirs, store), undefined);
  assert.equal(refusal(nodeRestriction({ name: 'system:node:', groups: ['system:nodes'] }, 'delete', pods, 'default', 'theirs', undefined, undefined, theirs, store)),
    '403 pods "theirs" is forbidden: could not determine node from user "system:node:"');
  assert.equal(nodeRestriction(n1, 'get', pods, 'default', 'theirs', undefined, undefined, theirs, store), undefined, 'reads are not admitted');
});
