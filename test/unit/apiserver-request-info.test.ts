// Request attributes as kube-apiserver's RequestInfo works them out, since RBAC and the Node
// authorizer decide on exactly these fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestAttributes } from '../../src/apiserver/auth/request-info.ts';

const user = { name: 'u', groups: [] };
const info = (method: string, path: string) => {
  const { user: _u, ...rest } = requestAttributes(user, method, new URL(path, 'https://apiserver'));
  return rest;
};
const resource = (over: Record<string, unknown>) => ({
  resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: '', subresource: '', namespace: '', name: '', ...over,
});

test('verbs follow the method, with list, watch and deletecollection for collections', () => {
  assert.deepEqual(info('GET', '/api/v1/namespaces/default/pods'), resource({ verb: 'list', path: '/api/v1/namespaces/default/pods', resource: 'pods', namespace: 'default' }));
  assert.equal(info('GET', '/api/v1/pods?watch=true').verb, 'watch');
  assert.equal(info('GET', '/api/v1/pods?watch=1').verb, 'watch');
  assert.equal(info('GET', '/api/v1/pods?watch=false').verb, 'list');
  assert.equal(info('GET', '/api/v1/namespaces/default/pods/web?watch=true').verb, 'watch');
  assert.equal(info('GET', '/api/v1/namespaces/default/pods/web').verb, 'get');
  assert.equal(info('HEAD', '/api/v1/namespaces/default/pods/web').verb, 'get');
  assert.equal(info('POST', '/api/v1/namespaces/default/pods').verb, 'create');
  assert.equal(info('PUT', '/api/v1/namespaces/default/pods/web').verb, 'update');
  assert.equal(info('PATCH', '/api/v1/namespaces/default/pods/web').verb, 'patch');
  assert.equal(info('DELETE', '/api/v1/namespaces/default/pods/web').verb, 'delete');
  assert.equal(info('DELETE', '/api/v1/namespaces/default/pods').verb, 'deletecollection');
});

test('a field selector on metadata.name names the object of a list or watch', () => {
  const a = info('GET', '/api/v1/namespaces/default/secrets?fieldSelector=metadata.name%3Dcreds&watch=true');
  assert.equal(a.verb, 'watch');
  assert.equal(a.name, 'creds');
  assert.deepEqual(a.fieldSelector, [{ field: 'metadata.name', negate: false, value: 'creds' }]);
  assert.equal(info('GET', '/api/v1/pods?fieldSelector=metadata.name!%3Dx').name, '');
  assert.deepEqual(info('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1').fieldSelector, [{ field: 'spec.nodeName', negate: false, value: 'n1' }]);
});

test('groups, subresources, cluster scope and namespace subresources', () => {
  assert.deepEqual(info('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1'),
    resource({ verb: 'update', path: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1', apiGroup: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', name: 'n1' }));
  assert.deepEqual(info('PATCH', '/api/v1/nodes/n1/status'), resource({ verb: 'patch', path: '/api/v1/nodes/n1/status', resource: 'nodes', name: 'n1', subresource: 'status' }));
  assert.deepEqual(info('GET', '/api/v1/nodes/n1/proxy/pods/x'), resource({ verb: 'get', path: '/api/v1/nodes/n1/proxy/pods/x', resource: 'nodes', name: 'n1', subresource: 'proxy' }));
  assert.deepEqual(info('PUT', '/api/v1/namespaces/team/finalize'), resource({ verb: 'update', path: '/api/v1/namespaces/team/finalize', resource: 'namespaces', name: 'team', subresource: 'finalize', namespace: 'team' }));
  assert.deepEqual(info('GET', '/api/v1/namespaces/team'), resource({ verb: 'get', path: '/api/v1/namespaces/team', resource: 'namespaces', name: 'team', namespace: 'team' }));
  assert.deepEqual(info('POST', '/api/v1/namespaces/default/serviceaccounts/sa/token'),
    resource({ verb: 'create', path: '/api/v1/namespaces/default/serviceaccounts/sa/token', resource: 'serviceaccounts', name: 'sa', subresource: 'token', namespace: 'default' }));
});

test('everything else is a non-resource request with the lower-case method', () => {
  const nonResource = (verb: string, path: string) => ({ verb, resourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' });
  assert.deepEqual(info('GET', '/healthz'), nonResource('get', '/healthz'));
  assert.deepEqual(info('GET', '/api'), nonResource('get', '/api'));
  assert.deepEqual(info('GET', '/api/v1'), nonResource('get', '/api/v1'));
  assert.deepEqual(info('GET', '/apis/rbac.authorization.k8s.io/v1'), nonResource('get', '/apis/rbac.authorization.k8s.io/v1'));
  assert.deepEqual(info('POST', '/logs'), nonResource('post', '/logs'));
});
