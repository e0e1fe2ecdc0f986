// The RuntimeClass admission step on pod create: an unknown class is refused (403), the class's
// overhead becomes the pod's (a different one, or one without such a class, is refused), its
// node selector and tolerations join the pod's. A pod without a class passes untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/apiserver/errors.ts';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { mergeTolerations } from '../../src/apiserver/runtime-class-admission.ts';
import { ObjectStore } from '../../src/apiserver/store.ts';

const podType = resourceTypes.find((t) => t.plural === 'pods' && !t.group)!;
const runtimeClassType = resourceTypes.find((t) => t.plural === 'runtimeclasses')!;
const namespaceType = resourceTypes.find((t) => t.plural === 'namespaces')!;

function setup(): ResourceService {
  const r = new ResourceService(new ObjectStore());
  r.create(namespaceType, '', { metadata: { name: 'default' } });
  r.create(runtimeClassType, '', { metadata: { name: 'plain' }, handler: 'runc' });
  r.create(runtimeClassType, '', {
    metadata: { name: 'kata' }, handler: 'kata', overhead: { podFixed: { cpu: '250m', memory: '120Mi' } },
    scheduling: { nodeSelector: { sandbox: 'kata' }, tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }] },
  });
  return r;
}

const pod = (name: string, spec: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { containers: [{ name: 'app', image: 'busybox:1.36' }], ...spec } });

function refusal(write: () => unknown): { code: number; reason: string; message: string } {
  try {
    write();
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, reason: err.reason, message: err.message };
    throw err;
  }
  assert.fail('the pod was admitted');
}

test('a pod naming a RuntimeClass that does not exist is refused with kube\'s 403', () => {
  const r = setup();
  assert.deepEqual(refusal(() => r.create(podType, 'default', pod('p', { runtimeClassName: 'missing' }))), {
    code: 403, reason: 'Forbidden', message: 'pods "p" is forbidden: pod rejected: RuntimeClass "missing" not found',
  });
  assert.equal(r.store.get('pods', 'default', 'p'), undefined, 'nothing was stored');
});

test('a class without overhead or scheduling leaves the pod as it is', () => {
  const r = setup();
  const plain = r.create(podType, 'default', pod('p', { runtimeClassName: 'plain' }));
  assert.equal(plain.spec.overhead, undefined);
  assert.equal(plain.spec.nodeSelector, undefined);
  assert.deepEqual(plain.spec.tolerations.map((t: any) => t.key), ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
});

test('the class\'s overhead, node selector and tolerations are added to the pod', () => {
  const r = setup();
  const p = r.create(podType, 'default', pod('p', { runtimeClassName: 'kata', nodeSelector: { disk: 'ssd' } }));
  assert.deepEqual(p.spec.overhead, { cpu: '250m', memory: '120Mi' });
  assert.deepEqual(p.spec.nodeSelector, { disk: 'ssd', sandbox: 'kata' });
  assert.deepEqual(p.spec.tolerations.map((t: any) => t.key), ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable', 'sandbox']);
  // A pod that states the same overhead (in other units) is admitted.
  assert.ok(r.create(podType, 'default', pod('same', { runtimeClassName: 'kata', overhead: { cpu: '0.25', memory: '125829120' } })));
});

test('a pod overhead that differs from the class\'s, or without a class defining one, is refused', () => {
  const r = setup();
  assert.equal(refusal(() => r.create(podType, 'default', pod('p', { runtimeClassName: 'kata', overhead: { cpu: '1' } }))).message,
    'pods "p" is forbidden: pod rejected: Pod\'s Overhead doesn\'t match RuntimeClass\'s defined Overhead');
  for (const spec of [{ overhead: { cpu: '1' } }, { runtimeClassName: 'plain', overhead: { cpu: '1' } }]) {
    assert.equal(refusal(() => r.create(podType, 'default', pod('q', spec))).message,
      'pods "q" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
  }
});

test('a node selector that conflicts with the class\'s is refused', () => {
  const r = setup();
  assert.equal(refusal(() => r.create(podType, 'default', pod('p', { runtimeClassName: 'kata', nodeSelector: { sandbox: 'gvisor' } }))).message,
    'pods "p" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[sandbox] = kata; pod.spec.nodeSelector[sandbox] = gvisor');
});

test('merged tolerations keep only those no other covers', () => {
  const notReady = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 };
  assert.deepEqual(mergeTolerations([notReady], [{ operator: 'Exists' }]), [{ operator: 'Exists' }], 'tolerate-everything covers all');
  assert.deepEqual(mergeTolerations([notReady], [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }]),
    [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }], 'no time limit covers a limited one');
  assert.deepEqual(mergeTolerations([notReady], [notReady]), [notReady], 'equal ones once');
  const a = { key: 'a', operator: 'Equal', value: '1', effect: 'NoSchedule' };
  const b = { key: 'a', operator: 'Equal', value: '2', effect: 'NoSchedule' };
  assert.deepEqual(mergeTolerations([a], [b]), [a, b], 'different values are both kept');
});
