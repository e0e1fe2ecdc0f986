// Fields a kind does not have, found from client-node's generated models, as kube-apiserver's
// strict decoding names them; strategic-merge directives are not fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unknownFields } from '../../src/apiserver/unknown-fields.ts';

test('unknown fields: top level, nested, in lists and in maps of objects; known ones and directives are not', () => {
  assert.deepEqual(unknownFields('Pod', 'v1', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { any: 'label' }, bogus: 1 },
    spec: { containers: [{ name: 'a', image: 'i', imagePullPolcy: 'Always', resources: { limits: { cpu: '1' } } }], nodeSelctor: {} },
    status: { phase: 'Running' }, extra: true,
  }), ['metadata.bogus', 'spec.containers[0].imagePullPolcy', 'spec.nodeSelctor', 'extra']);
  assert.deepEqual(unknownFields('Pod', 'v1', { spec: { $setElementOrder: [], containers: [{ name: 'a', $patch: 'delete' }] } }), []);
  assert.deepEqual(unknownFields('Lease', 'v1', { spec: { renewTime: 'x', holder: 'n' } }), ['spec.holder']);
  assert.deepEqual(unknownFields('ConfigMap', 'v1', { data: { anything: 'goes' } }), []);
  assert.deepEqual(unknownFields('Nothing', 'v1', { a: 1 }), [], 'a kind without a model is let be');
});
