// Patch semantics as kube-apiserver applies them to pods and nodes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyMergePatch, applyPatch, applyStrategicMergePatch } from '../../src/apiserver/patch.ts';
import { ApiError } from '../../src/apiserver/errors.ts';

const pod = () => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x'] },
  spec: {
    containers: [
      { name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
      { name: 'side', image: 'side:1' },
    ],
    tolerations: [{ key: 't1' }, { key: 't2' }],
  },
  status: {
    conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }],
    containerStatuses: [{ name: 'app', ready: false }, { name: 'side', ready: false }],
  },
});

test('merge patch: null deletes, objects merge, lists replace', () => {
  const out = applyMergePatch(pod(), { metadata: { labels: { a: null, c: '3' } }, spec: { tolerations: [{ key: 'only' }] } });
  assert.deepEqual(out.metadata.labels, { b: '2', c: '3' });
  assert.deepEqual(out.spec.tolerations, [{ key: 'only' }]);
  assert.equal(out.spec.containers.length, 2);
});

test('strategic merge: containers merge by name, env by name, atomic lists replace', () => {
  const out = applyStrategicMergePatch('Pod', pod(), {
    spec: {
      containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }] }, { name: 'new', image: 'n:1' }],
      tolerations: [{ key: 't3' }],
    },
  });
  assert.deepEqual(out.spec.containers.map((c: any) => `${c.name}=${c.image}`), ['app=app:2', 'side=side:1', 'new=n:1']);
  assert.deepEqual(out.spec.containers[0].env, [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }]);
  assert.deepEqual(out.spec.tolerations, [{ key: 't3' }]);
});

test('strategic merge: status conditions by type and container statuses by name, as a kubelet patches them', () => {
  const out = applyStrategicMergePatch('Pod', pod(), {
    status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }], containerStatuses: [{ name: 'side', ready: true }] },
  });
  assert.deepEqual(out.status.conditions, [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }, { type: 'Initialized', status: 'True' }]);
  assert.deepEqual(out.status.containerStatuses, [{ name: 'app', ready: false }, { name: 'side', ready: true }]);
});

test('strategic merge: $patch delete and replace directives, $setElementOrder ignored, finalizers as a set', () => {
  const out = applyStrategicMergePatch('Pod', pod(), {
    metadata: { finalizers: ['x', 'y'], '$deleteFromPrimitiveList/finalizers': ['x'] },
    spec: {
      '$setElementOrder/containers': [{ name: 'app' }],
      containers: [{ name: 'side', $patch: 'delete' }],
    },
    status: { conditions: [{ $patch: 'replace' }, { type: 'Only', status: 'True' }] },
  });
  assert.deepEqual(out.metadata.finalizers, ['y']);
  assert.deepEqual(out.spec.containers.map((c: any) => c.name), ['app']);
  assert.deepEqual(out.status.conditions, [{ type: 'Only', status: 'True' }]);
  assert.ok(!('$setElementOrder/containers' in out.spec));

  const replaced = applyStrategicMergePatch('Pod', pod(), { spec: { $patch: 'replace', containers: [{ name: 'solo', image: 's' }] } });
  assert.deepEqual(Object.keys(replaced.spec), ['containers']);
});

test('strategic merge: node addresses merge by type', () => {
  const node = { metadata: { name: 'n' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'n' }] } };
  const out = applyStrategicMergePatch('Node', node, { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } });
  assert.deepEqual(out.status.addresses, [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'Hostname', address: 'n' }]);
});

test('JSON patch applies operations; a failing test operation is 422 Invalid', () => {
  const out = applyPatch('json', 'Pod', pod(), [{ op: 'replace', path: '/spec/containers/1/image', value: 'side:2' }, { op: 'remove', path: '/metadata/labels/a' }]);
  assert.equal(out.spec.containers[1].image, 'side:2');
  assert.deepEqual(out.metadata.labels, { b: '2' });
  assert.throws(() => applyPatch('json', 'Pod', pod(), [{ op: 'test', path: '/metadata/name', value: 'other' }]),
    (err: unknown) => err instanceof ApiError && err.code === 422 && err.reason === 'Invalid');
});
