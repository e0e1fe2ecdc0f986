// Image references, pull policy defaults, and pull-secret matching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { effectivePullPolicy, InvalidImageNameError, parseImageRef } from '../../src/cri/runtime-manager/image-ref.ts';
import { pullCredentials } from '../../src/cri/runtime-manager/pull-secrets.ts';

const valid: Array<[string, string, string]> = [
  ['busybox', 'busybox:latest', 'docker.io'],
  ['busybox:1.36', 'busybox:1.36', 'docker.io'],
  ['library/busybox', 'library/busybox:latest', 'docker.io'],
  ['index.docker.io/library/busybox:1', 'index.docker.io/library/busybox:1', 'docker.io'],
  ['127.0.0.1:5000/team/app:v2', '127.0.0.1:5000/team/app:v2', '127.0.0.1:5000'],
  ['localhost/app', 'localhost/app:latest', 'localhost'],
  ['registry.example.com/a/b/c@sha256:' + 'a'.repeat(64), 'registry.example.com/a/b/c@sha256:' + 'a'.repeat(64), 'registry.example.com'],
];
for (const [image, withTag, registry] of valid) {
  test(`valid image ${image}`, () => {
    const ref = parseImageRef(image);
    assert.equal(ref.withDefaultTag, withTag);
    assert.equal(ref.registry, registry);
  });
}

for (const image of ['', 'Busybox', 'Team/app', 'busybox:', 'a b', 'busybox@sha256:short', 'http://registry/app', 'app:tag:again']) {
  test(`invalid image ${JSON.stringify(image)} is InvalidImageName`, () => {
    assert.throws(() => parseImageRef(image), (err: unknown) => err instanceof InvalidImageNameError && err.reason === 'InvalidImageName' && err.message.includes('couldn\'t parse image name'));
  });
}

test('pull policy defaults as the API server does', () => {
  assert.equal(effectivePullPolicy(undefined, parseImageRef('busybox')), 'Always');
  assert.equal(effectivePullPolicy(undefined, parseImageRef('busybox:latest')), 'Always');
  assert.equal(effectivePullPolicy(undefined, parseImageRef('busybox:1.36')), 'IfNotPresent');
  assert.equal(effectivePullPolicy(undefined, parseImageRef('busybox@sha256:' + 'b'.repeat(64))), 'IfNotPresent');
  assert.equal(effectivePullPolicy('Never', parseImageRef('busybox')), 'Never');
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secrets: Record<string, V1Secret> = {
  json: { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths: {
    'https://index.docker.io/v1/': { auth: b64('hub:hubpass') },
    'reg.example:5000': { username: 'alice', password: 'pw' },
  } })) } },
  cfg: { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'reg.example:5000': { auth: b64('bob:pw2') } })) } },
  opaque: { type: 'Opaque', data: { x: b64('y') } },
};
const pod: V1Pod = { metadata: { namespace: 'ns' }, spec: { containers: [], imagePullSecrets: [{ name: 'json' }, { name: 'missing' }, { name: 'cfg' }, { name: 'opaque' }] } };
const getSecret = async (_ns: string, name: string) => secrets[name];

test('pull credentials: entries for the image registry, in the pod\'s order, from both secret types', async () => {
  const creds = await pullCredentials(pod, 'reg.example:5000', getSecret);
  assert.deepEqual(creds.map(c => [c.username, c.password]), [['alice', 'pw'], ['bob', 'pw2']]);
  assert.equal(creds[1]!.auth, b64('bob:pw2'));
});

test('pull credentials: Docker Hub aliases match docker.io; other registries get none', async () => {
  const hub = await pullCredentials(pod, parseImageRef('busybox').registry, getSecret);
  assert.deepEqual(hub.map(c => c.username), ['hub']);
  assert.deepEqual(await pullCredentials(pod, 'quay.io', getSecret), []);
});
