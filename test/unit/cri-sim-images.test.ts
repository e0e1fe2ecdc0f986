import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageStore, defaultPullable, normalizeImageRef } from '../../src/cri/sim/images.ts';

test('image names normalise as containerd does', () => {
  assert.equal(normalizeImageRef('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeImageRef('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(normalizeImageRef('bitnami/nginx'), 'docker.io/bitnami/nginx:latest');
  assert.equal(normalizeImageRef('registry.k8s.io/pause:3.9'), 'registry.k8s.io/pause:3.9');
  assert.equal(normalizeImageRef('localhost:5000/app'), 'localhost:5000/app:latest');
  assert.equal(normalizeImageRef('localhost/app:v1'), 'localhost/app:v1');
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.equal(normalizeImageRef(`alpine@${digest}`), `docker.io/library/alpine@${digest}`);
});

test('a pulled image is found by short name, full name, id and digest', () => {
  const store = new ImageStore(defaultPullable);
  const image = store.pull('busybox');
  assert.match(image.id, /^sha256:[0-9a-f]{64}$/);
  for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest', image.id, image.repoDigests[0]!]) {
    assert.equal(store.resolve(ref)?.id, image.id, ref);
  }
  assert.equal(store.resolve('busybox:1.0'), undefined);
  assert.equal(store.pull('busybox').id, image.id, 'the same name always gives the same image');
  store.remove('busybox');
  assert.equal(store.resolve(image.id), undefined);
});

test('by default names with "missing" or "does-not-exist" cannot be pulled', () => {
  const store = new ImageStore(defaultPullable);
  assert.throws(() => store.pull('example.com/missing:1'), /not found/);
  assert.throws(() => store.pull('does-not-exist'), /not found/);
  assert.deepEqual(store.list(), []);
});
