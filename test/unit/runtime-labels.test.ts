// The io.kubernetes.* labels and annotations, and reading them back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { containerAnnotations, containerIdentityOf, containerLabels, containerSpecHash, podIdentityOf, sandboxLabels } from '../../src/cri/runtime-manager/labels.ts';

const pod: V1Pod = { metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, deletionGracePeriodSeconds: 5 }, spec: { containers: [], terminationGracePeriodSeconds: 45 } };

test('the spec hash is stable under key order and changes with the spec', () => {
  const a: V1Container = { name: 'a', image: 'busybox:1', env: [{ name: 'X', value: '1' }] };
  const reordered = { env: [{ value: '1', name: 'X' }], image: 'busybox:1', name: 'a' } as V1Container;
  assert.equal(containerSpecHash(a), containerSpecHash(reordered));
  assert.equal(containerSpecHash(a), containerSpecHash({ ...a, args: undefined }));
  assert.notEqual(containerSpecHash(a), containerSpecHash({ ...a, image: 'busybox:2' }));
  assert.notEqual(containerSpecHash(a), containerSpecHash({ ...a, env: [{ name: 'X', value: '2' }] }));
  assert.match(containerSpecHash(a), /^[0-9a-f]{16}$/);
});

test('labels and annotations read back into the container identity', () => {
  const c: V1Container = { name: 'a', image: 'busybox', terminationMessagePolicy: 'FallbackToLogsOnError', lifecycle: { preStop: { exec: { command: ['sleep', '1'] } } } };
  const id = containerIdentityOf(containerLabels(pod, c), containerAnnotations(pod, c, 4));
  assert.deepEqual(id, {
    podUid: 'u-1', podName: 'web', podNamespace: 'shop', containerName: 'a', specHash: containerSpecHash(c), restartCount: 4,
    terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'FallbackToLogsOnError', terminationGracePeriodSeconds: 45,
    preStop: { exec: { command: ['sleep', '1'] } },
  });
  assert.equal(containerAnnotations(pod, c, 0)['io.kubernetes.pod.deletionGracePeriod'], '5');
});

test('sandboxes and containers without the pod uid label are not ours', () => {
  assert.equal(podIdentityOf({ app: 'x' }), undefined);
  assert.equal(containerIdentityOf(undefined, undefined), undefined);
  assert.deepEqual(podIdentityOf(sandboxLabels(pod)), { uid: 'u-1', name: 'web', namespace: 'shop' });
});
