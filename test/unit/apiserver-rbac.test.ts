// RBAC as kube-apiserver evaluates it: rule matching, binding subjects, the authorizer's
// answers and reasons over live Roles and bindings, validation, and the bootstrap policy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestAttributes, UserInfo } from '../../src/apiserver/auth/attributes.ts';
import { createAuthorizer, ensureBootstrapPolicy } from '../../src/apiserver/auth/authorizer-chain.ts';
import { createRbacAuthorizer, subjectAppliesTo, type Subject } from '../../src/apiserver/auth/rbac-authorizer.ts';
import { ruleAllows, type PolicyRule } from '../../src/apiserver/auth/rbac-rules.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import { rbacGroup, resourceTypes } from '../../src/apiserver/registry.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { ObjectStore } from '../../src/apiserver/store.ts';

const alice: UserInfo = { name: 'alice', groups: ['devs', 'system:authenticated'] };
const anonymous: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

function resource(verb: string, resourcePath: string, opts: Partial<RequestAttributes> = {}): RequestAttributes {
  const [res, sub = ''] = resourcePath.split('/');
  return { user: alice, verb, resourceRequest: true, path: '', apiGroup: '', apiVersion: 'v1', resource: res, subresource: sub, namespace: 'default', name: '', ...opts };
}

function nonResource(verb: string, path: string, user = alice): RequestAttributes {
  return { user, verb, resourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
}

test('a rule covers a request by verb, group, resource, subresource and name', () => {
  const cases: Array<[string, PolicyRule, RequestAttributes, boolean]> = [
    ['exact', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, resource('get', 'pods'), true],
    ['other verb', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, resource('list', 'pods'), false],
    ['verb *', { verbs: ['*'], apiGroups: [''], resources: ['pods'] }, resource('deletecollection', 'pods'), true],
    ['other group', { verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }, resource('get', 'pods'), false],
    ['group *', { verbs: ['get'], apiGroups: ['*'], resources: ['leases'] }, resource('get', 'leases', { apiGroup: 'coordination.k8s.io' }), true],
    ['resource *', { verbs: ['get'], apiGroups: [''], resources: ['*'] }, resource('get', 'pods/log'), true],
    ['object rule does not cover subresource', { verbs: ['get'], apiGroups: [''], resources: ['pods'] }, resource('get', 'pods/log'), false],
    ['subresource rule', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, resource('get', 'pods/log'), true],
    ['subresource rule does not cover object', { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, resource('get', 'pods'), false],
    ['*/subresource', { verbs: ['get'], apiGroups: [''], resources: ['*/status'] }, resource('get', 'nodes/status'), true],
    ['*/subresource other sub', { verbs: ['get'], apiGroups: [''], resources: ['*/status'] }, resource('get', 'nodes/proxy'), false],
    ['*/subresource not the object', { verbs: ['get'], apiGroups: [''], resources: ['*/status'] }, resource('get', 'nodes'), false],
    ['resourceNames match', { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }, resource('get', 'secrets', { name: 'a' }), true],
    ['resourceNames other', { verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }, resource('get', 'secrets', { name: 'b' }), false],
    ['resourceNames never a collection', { verbs: ['list'], apiGroups: [''], resources: ['secrets'], resourceNames: ['a'] }, resource('list', 'secrets'), false],
    ['resource rule, non-resource request', { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, nonResource('get', '/healthz'), false],
    ['url exact', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, nonResource('get', '/healthz'), true],
    ['url other', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, nonResource('get', '/healthz/etcd'), false],
    ['url prefix *', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, nonResource('get', '/apis/apps/v1'), true],
    ['url prefix * not the parent', { verbs: ['get'], nonResourceURLs: ['/apis/*'] }, nonResource('get', '/apis'), false],
    ['url *', { verbs: ['get'], nonResourceURLs: ['*'] }, nonResource('get', '/anything'), true],
    ['url method verb', { verbs: ['get'], nonResourceURLs: ['/healthz'] }, nonResource('post', '/healthz'), false],
    ['url rule, resource request', { verbs: ['*'], nonResourceURLs: ['*'] }, resource('get', 'pods'), false],
    ['malformed rule never throws', { verbs: 'get' as any, apiGroups: [''], resources: ['pods'] }, resource('get', 'pods'), false],
  ];
  for (const [what, rule, attrs, want] of cases) assert.equal(ruleAllows(attrs, rule), want, what);
});

test('binding subjects name users, groups and service accounts', () => {
  const sa = { name: 'system:serviceaccount:team:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] };
  const cases: Array<[string, UserInfo, Subject, string, boolean]> = [
    ['user', alice, { kind: 'User', name: 'alice' }, '', true],
    ['other user', alice, { kind: 'User', name: 'bob' }, '', false],
    ['group', alice, { kind: 'Group', name: 'devs' }, '', true],
    ['user subject is not a group', alice, { kind: 'User', name: 'devs' }, '', false],
    ['service account', sa, { kind: 'ServiceAccount', name: 'bot', namespace: 'team' }, '', true],
    ['service account other namespace', sa, { kind: 'ServiceAccount', name: 'bot', namespace: 'other' }, '', false],
    ['service account defaults to binding namespace', sa, { kind: 'ServiceAccount', name: 'bot' }, 'team', true],
    ['service account without any namespace', sa, { kind: 'ServiceAccount', name: 'bot' }, '', false],
    ['no namespace never matches an empty one', { name: 'system:serviceaccount::bot', groups: [] }, { kind: 'ServiceAccount', name: 'bot' }, '', false],
    ['a user named like a service account is not one without the exact name', { name: 'bot', groups: [] }, { kind: 'ServiceAccount', name: 'bot', namespace: 'team' }, '', false],
    ['unknown kind', alice, { kind: 'Robot', name: 'alice' }, '', false],
    ['service accounts group', sa, { kind: 'Group', name: 'system:serviceaccounts:team' }, '', true],
  ];
  for (const [what, user, subject, ns, want] of cases) assert.equal(subjectAppliesTo(user, subject, ns), want, what);
});

function cluster() {
  const store = new ObjectStore();
  const resources = new ResourceService(store);
  const type = (plural: string, group = '') => resourceTypes.find((t) => t.plural === plural && t.group === group)!;
  for (const name of ['default', 'team']) resources.create(type('namespaces'), '', { metadata: { name } });
  ensureBootstrapPolicy(resources);
  const rbac = (plural: string) => type(plural, rbacGroup);
  return { store, resources, type, rbac };
}

test('RBAC allows through a RoleBinding in the namespace only, with kube\'s reason', () => {
  const { store, resources, rbac } = cluster();
  const authorizer = createRbacAuthorizer(store);
  const listPods = resource('list', 'pods', { namespace: 'team' });
  assert.deepEqual(authorizer.authorize(listPods), { decision: 'noOpinion', reason: '' });

  resources.create(rbac('roles'), 'team', { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] });
  resources.create(rbac('rolebindings'), 'team', {
    metadata: { name: 'read-pods' }, roleRef: { kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'Group', name: 'devs' }],
  });
  assert.deepEqual(authorizer.authorize(listPods), {
    decision: 'allow', reason: 'RBAC: allowed by RoleBinding "read-pods/team" of Role "pod-reader" to Group "devs"',
  });
  assert.equal(authorizer.authorize({ ...listPods, namespace: 'default' }).decision, 'noOpinion');
  assert.equal(authorizer.authorize({ ...listPods, namespace: '' }).decision, 'noOpinion', 'a RoleBinding never grants across namespaces');
  assert.equal(authorizer.authorize({ ...listPods, verb: 'delete' }).decision, 'noOpinion');
});

test('a RoleBinding may grant a ClusterRole within its namespace; a ClusterRoleBinding grants everywhere', () => {
  const { store, resources, rbac } = cluster();
  const authorizer = createRbacAuthorizer(store);
  const bot = { name: 'system:serviceaccount:team:bot', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] };
  resources.create(rbac('rolebindings'), 'team', {
    metadata: { name: 'bot-view' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }],
  });
  assert.deepEqual(authorizer.authorize(resource('get', 'pods', { user: bot, namespace: 'team', name: 'p' })), {
    decision: 'allow', reason: 'RBAC: allowed by RoleBinding "bot-view/team" of ClusterRole "view" to ServiceAccount "bot/team"',
  });
  assert.equal(authorizer.authorize(resource('get', 'pods', { user: bot, namespace: 'default', name: 'p' })).decision, 'noOpinion');
  assert.equal(authorizer.authorize(resource('get', 'secrets', { user: bot, namespace: 'team', name: 's' })).decision, 'noOpinion', 'view does not read secrets');

  resources.create(rbac('clusterrolebindings'), '', {
    metadata: { name: 'alice-edit' }, roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', name: 'alice' }],
  });
  assert.deepEqual(authorizer.authorize(resource('create', 'pods', { namespace: 'default' })), {
    decision: 'allow', reason: 'RBAC: allowed by ClusterRoleBinding "alice-edit" of ClusterRole "edit" to User "alice"',
  });
});

test('bindings to missing roles give RBAC\'s resolution errors as the reason', () => {
  const { store, resources, rbac } = cluster();
  const authorizer = createRbacAuthorizer(store);
  resources.create(rbac('clusterrolebindings'), '', {
    metadata: { name: 'dangling' }, roleRef: { kind: 'ClusterRole', name: 'nope' }, subjects: [{ kind: 'User', name: 'alice' }],
  });
  assert.deepEqual(authorizer.authorize(resource('get', 'pods')), {
    decision: 'noOpinion', reason: `RBAC: clusterrole.${rbacGroup} "nope" not found`,
  });
  resources.create(rbac('rolebindings'), 'default', {
    metadata: { name: 'dangling-role' }, roleRef: { kind: 'Role', name: 'gone' }, subjects: [{ kind: 'User', name: 'alice' }],
  });
  assert.deepEqual(authorizer.authorize(resource('get', 'pods')), {
    decision: 'noOpinion', reason: `RBAC: [clusterrole.${rbacGroup} "nope" not found, role.${rbacGroup} "gone" not found]`,
  });
});

test('the bootstrap policy: anonymous reaches only public info, authenticated users discovery, masters everything', () => {
  const { store } = cluster();
  const authorizer = createAuthorizer(store);
  for (const path of ['/healthz', '/livez', '/readyz', '/version']) {
    assert.equal(authorizer.authorize(nonResource('get', path, anonymous)).decision, 'allow', path);
  }
  for (const path of ['/api', '/apis/apps/v1', '/openapi/v3', '/metrics']) {
    assert.deepEqual(authorizer.authorize(nonResource('get', path, anonymous)), { decision: 'noOpinion', reason: '' }, path);
  }
  assert.deepEqual(authorizer.authorize(nonResource('get', '/api', alice)), {
    decision: 'allow', reason: 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"',
  });
  assert.equal(authorizer.authorize(resource('list', 'pods', { user: anonymous })).decision, 'noOpinion');
  assert.equal(authorizer.authorize(resource('list', 'pods')).decision, 'noOpinion');
  assert.equal(authorizer.authorize(resource('create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io', namespace: '' })).decision, 'allow');
  const admin = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
  assert.deepEqual(authorizer.authorize(resource('delete', 'nodes', { user: admin, namespace: '', name: 'n1' })), { decision: 'allow', reason: '' });
  const kubeletClient = { name: 'kube-apiserver-kubelet-client', groups: ['system:authenticated'] };
  assert.equal(authorizer.authorize(resource('get', 'nodes/proxy', { user: kubeletClient, namespace: '', name: 'n1' })).decision, 'allow');
  assert.equal(authorizer.authorize(resource('get', 'pods', { user: kubeletClient })).decision, 'noOpinion');
});

test('the bootstrap policy is created once and kept as edited', () => {
  const { store, resources, rbac } = cluster();
  const crKey = `clusterroles.${rbacGroup}`;
  const view = store.get(crKey, '', 'view')!;
  assert.equal(view.metadata.labels['kubernetes.io/bootstrapping'], 'rbac-defaults');
  assert.ok(view.rules.some((r: any) => r.resources.includes('pods/log') && r.verbs.includes('get')));
  for (const name of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:public-info-viewer', 'system:basic-user', 'system:kubelet-api-admin', 'system:node']) {
    assert.ok(store.get(crKey, '', name), name);
  }
  const crb = store.get(`clusterrolebindings.${rbacGroup}`, '', 'system:public-info-viewer')!;
  assert.deepEqual(crb.subjects.map((s: any) => s.name), ['system:authenticated', 'system:unauthenticated']);
  resources.update(rbac('clusterroles'), '', 'view', { ...view, rules: [] });
  const rv = store.currentRv();
  ensureBootstrapPolicy(resources);
  assert.equal(store.currentRv(), rv, 'nothing written the second time');
  assert.deepEqual(store.get(crKey, '', 'view')!.rules, []);
});

test('RBAC objects are validated and defaulted as kube-apiserver does', () => {
  const { store, resources, rbac } = cluster();
  const invalid = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 422, err.message);
      return err.message;
    }
    assert.fail('expected a 422');
  };
  assert.match(invalid(() => resources.create(rbac('roles'), 'default', { metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'] }] })),
    /rules\[0\]\.verbs: Required value: verbs must contain at least one value/);
  assert.match(invalid(() => resources.create(rbac('roles'), 'default', { metadata: { name: 'r' }, rules: [{ nonResourceURLs: ['/x'], verbs: ['get'] }] })),
    /namespaced rules cannot apply to non-resource URLs/);
  assert.match(invalid(() => resources.create(rbac('clusterrolebindings'), '', { metadata: { name: 'b' }, roleRef: { kind: 'Role', name: 'x' } })),
    /roleRef\.kind: Unsupported value: "Role": supported values: "ClusterRole"/);
  assert.match(invalid(() => resources.create(rbac('clusterrolebindings'), '', {
    metadata: { name: 'b' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'bot' }],
  })), /subjects\[0\]\.namespace: Required value/);

  // Names are path segments: colons are fine, slashes are not.
  resources.create(rbac('clusterroles'), '', { metadata: { name: 'team:reader' }, rules: [{ nonResourceURLs: ['/x'], verbs: ['get'] }] });
  assert.match(invalid(() => resources.create(rbac('clusterroles'), '', { metadata: { name: 'a/b' } })), /may not contain '\/'/);

  const created = resources.create(rbac('rolebindings'), 'default', {
    metadata: { name: 'rb' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'bot' }],
  });
  assert.equal(created.roleRef.apiGroup, rbacGroup);
  assert.deepEqual(created.subjects.map((s: any) => s.apiGroup), [rbacGroup, undefined]);
  assert.match(invalid(() => resources.update(rbac('rolebindings'), 'default', 'rb', { ...created, roleRef: { ...created.roleRef, name: 'edit' } })),
    /roleRef: Invalid value: .*cannot change roleRef/);
  const updated = resources.update(rbac('rolebindings'), 'default', 'rb', { ...created, subjects: [] });
  assert.deepEqual(updated.subjects, []);
  assert.ok(store.get(`rolebindings.${rbacGroup}`, 'default', 'rb'));
});

test('kubectl get shows roles with their creation time and bindings with role and subjects', async () => {
  const { toTable } = await import('../../src/apiserver/tables.ts');
  const { rbac } = cluster();
  const opts = { includeObject: 'None' as const, noHeaders: false };
  const role = { metadata: { name: 'r', creationTimestamp: '2026-01-01T00:00:00Z' } };
  const roleTable = toTable(rbac('clusterroles'), [role], {}, opts);
  assert.deepEqual(roleTable.columnDefinitions.map((c) => `${c.name}:${c.type}`), ['Name:string', 'Created At:date']);
  assert.deepEqual(roleTable.rows[0].cells, ['r', '2026-01-01T00:00:00Z']);
  const binding = {
    metadata: { name: 'b', creationTimestamp: '2026-01-01T00:00:00Z' }, roleRef: { kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', name: 'alice' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', name: 'bot', namespace: 'team' }, { kind: 'User', name: 'bob' }],
  };
  const table = toTable(rbac('rolebindings'), [binding], {}, opts, new Date('2026-01-01T00:01:00Z'));
  assert.deepEqual(table.columnDefinitions.map((c) => `${c.name}:${c.priority}`), ['Name:0', 'Role:0', 'Age:0', 'Users:1', 'Groups:1', 'ServiceAccounts:1']);
  assert.deepEqual(table.rows[0].cells, ['b', 'ClusterRole/view', '60s', 'alice, bob', 'devs', 'team/bot']);
});

test('RBAC objects arrive as protobuf from kubectl create and decode like their JSON', async () => {
  const { decodeProtobufObject } = await import('../../src/apiserver/protobuf-body.ts');
  const protobuf = (await import('protobufjs')).default;
  const root = protobuf.loadSync(new URL('../../src/apiserver/proto/k8s-objects.proto', import.meta.url).pathname);
  const encode = (apiVersion: string, kind: string, message: string, obj: Record<string, unknown>) => {
    const raw = root.lookupType(message).encode(obj).finish();
    const unknown = root.lookupType('k8s.Unknown').encode({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' }).finish();
    return Buffer.concat([Buffer.from('k8s\0'), unknown]);
  };
  const role = decodeProtobufObject(encode('rbac.authorization.k8s.io/v1', 'ClusterRole', 'k8s.ClusterRole', {
    metadata: { name: 'reader' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], nonResourceURLs: ['/logs/*'] }],
  }));
  assert.deepEqual(role, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' },
    rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { verbs: ['get'], nonResourceURLs: ['/logs/*'] }],
  });
  const binding = decodeProtobufObject(encode('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'k8s.RoleBinding', {
    metadata: { name: 'b' }, roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: 'reader' },
    subjects: [{ kind: 'ServiceAccount', apiGroup: '', name: 'alice', namespace: 'default' }],
  }));
  assert.deepEqual(binding, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'b' },
    roleRef: { apiGroup: rbacGroup, kind: 'ClusterRole', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'alice', namespace: 'default' }],
  });
});
