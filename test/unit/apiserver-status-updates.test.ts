// Writes to pods/status as kube-apiserver's pod status strategy takes them: the status is
// written, a changed spec is ignored (the stored one stays), labels, annotations and finalizers
// changes are kept, ownerReferences stay as stored, and a status without qosClass keeps the
// stored one. Other core kinds' status writes keep their metadata changes too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/apiserver/errors.ts';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { ObjectStore } from '../../src/apiserver/store.ts';

const podType = resourceTypes.find((t) => t.plural === 'pods' && !t.group)!;
const nodeType = resourceTypes.find((t) => t.plural === 'nodes')!;
const namespaceType = resourceTypes.find((t) => t.plural === 'namespaces')!;

const owner = { apiVersion: 'v1', kind: 'ReplicationController', name: 'rc', uid: 'u-1', controller: true };

function setup() {
  const r = new ResourceService(new ObjectStore());
  r.create(namespaceType, '', { metadata: { name: 'default' } });
  const pod = r.create(podType, 'default', {
    metadata: { name: 'p', labels: { app: 'web' }, annotations: { note: 'a' }, ownerReferences: [owner] },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox:1.36' }] },
  });
  return { r, pod };
}

test('a pods/status merge patch writes status; a spec change in it is ignored', () => {
  const { r, pod } = setup();
  const patched = r.patch(podType, 'default', 'p', 'merge', {
    spec: { containers: [{ name: 'app', image: 'evil:1' }], activeDeadlineSeconds: 5 }, status: { phase: 'Running' },
  }, 'status');
  assert.equal(patched.status.phase, 'Running');
  assert.deepEqual(patched.spec, pod.spec);
  assert.equal(patched.status.qosClass, 'BestEffort', 'the rest of status is as patched (merge keeps it)');
});

test('a pods/status patch keeps labels, annotations and finalizers changes; ownerReferences stay as stored', () => {
  const { r } = setup();
  const patched = r.patch(podType, 'default', 'p', 'merge', {
    metadata: { labels: { app: 'web', tier: 'front' }, annotations: { note: null, added: 'yes' }, finalizers: ['example.com/keep'], ownerReferences: [] },
    status: { phase: 'Running' },
  }, 'status');
  assert.deepEqual(patched.metadata.labels, { app: 'web', tier: 'front' });
  assert.deepEqual(patched.metadata.annotations, { added: 'yes' });
  assert.deepEqual(patched.metadata.finalizers, ['example.com/keep']);
  assert.deepEqual(patched.metadata.ownerReferences, [owner]);
});

test('a PUT to pods/status replaces status and metadata, not the spec, uid or creation time; qosClass is backfilled', () => {
  const { r, pod } = setup();
  const put = r.update(podType, 'default', 'p', {
    metadata: { name: 'p', uid: 'other', creationTimestamp: '2000-01-01T00:00:00Z', labels: { replaced: 'yes' }, resourceVersion: pod.metadata.resourceVersion },
    spec: { containers: [{ name: 'other', image: 'x' }] },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
  }, 'status');
  assert.deepEqual(put.metadata.labels, { replaced: 'yes' });
  assert.equal(put.metadata.annotations, undefined, 'a PUT without annotations drops them, as kube does');
  assert.deepEqual(put.metadata.ownerReferences, [owner]);
  assert.equal(put.metadata.uid, pod.metadata.uid);
  assert.equal(put.metadata.creationTimestamp, pod.metadata.creationTimestamp);
  assert.deepEqual(put.spec, pod.spec);
  assert.equal(put.status.qosClass, 'BestEffort');
});

test('through pods/status the mirror pod annotation may not change, and a pod being deleted gains no finalizer', () => {
  const { r } = setup();
  const refusal = (patch: unknown) => {
    try {
      r.patch(podType, 'default', 'p', 'merge', patch, 'status');
    } catch (err) {
      if (err instanceof ApiError) return err.message;
      throw err;
    }
    assert.fail('accepted');
  };
  assert.equal(refusal({ metadata: { annotations: { 'kubernetes.io/config.mirror': 'x' } } }),
    'Pod "p" is invalid: metadata.annotations[kubernetes.io/config.mirror]: Forbidden: may not add mirror pod annotation');
  r.delete(podType, 'default', 'p', { gracePeriodSeconds: 30 });
  assert.equal(refusal({ metadata: { finalizers: ['example.com/late'] } }),
    'Pod "p" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/late"}');
});

test('a nodes/status write keeps its metadata changes and ignores the spec, as the node status strategy does', () => {
  const { r } = setup();
  r.create(nodeType, '', { metadata: { name: 'n1' }, spec: { podCIDR: '10.0.0.0/24' } });
  const patched = r.patch(nodeType, '', 'n1', 'merge', { metadata: { labels: { zone: 'a' } }, spec: { unschedulable: true }, status: { phase: 'Running' } }, 'status');
  assert.deepEqual(patched.metadata.labels, { zone: 'a' });
  assert.deepEqual(patched.spec, { podCIDR: '10.0.0.0/24' });
  assert.equal(patched.status.phase, 'Running');
});
