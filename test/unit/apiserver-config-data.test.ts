// ConfigMap and Secret contents: keys must be config keys (in data, binaryData and stringData,
// at most 253 characters), a ConfigMap key not in both bags, built-in Secret types carry their
// keys, and a Secret's type never changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configKeyProblems } from '../../src/apiserver/config-data.ts';
import { ApiError } from '../../src/apiserver/errors.ts';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { ObjectStore } from '../../src/apiserver/store.ts';

const configMapType = resourceTypes.find((t) => t.plural === 'configmaps')!;
const secretType = resourceTypes.find((t) => t.plural === 'secrets')!;
const namespaceType = resourceTypes.find((t) => t.plural === 'namespaces')!;
const keyMessage = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function setup(): ResourceService {
  const r = new ResourceService(new ObjectStore());
  r.create(namespaceType, '', { metadata: { name: 'default' } });
  return r;
}

function refusal(write: () => unknown): string {
  try {
    write();
  } catch (err) {
    if (err instanceof ApiError && err.code === 422) return err.message;
    throw err;
  }
  assert.fail('the write was accepted');
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('config keys: alphanumerics, -, _ and . only, at most 253 characters, not . or .. or ..-prefixed', () => {
  for (const ok of ['a', 'KEY_NAME', 'key.name', 'key-name', '.hidden', 'x'.repeat(253)]) assert.deepEqual(configKeyProblems(ok), [], ok);
  assert.deepEqual(configKeyProblems('a b'), [keyMessage]);
  assert.deepEqual(configKeyProblems(''), [keyMessage]);
  assert.deepEqual(configKeyProblems('x'.repeat(254)), ['must be no more than 253 characters']);
  assert.deepEqual(configKeyProblems('.'), ["must not be '.'"]);
  assert.deepEqual(configKeyProblems('..'), ["must not be '..'"]);
  assert.deepEqual(configKeyProblems('..x'), ["must not start with '..'"]);
});

test('a ConfigMap with a bad key in data or binaryData, or a key in both, is refused', () => {
  const r = setup();
  assert.equal(refusal(() => r.create(configMapType, 'default', { metadata: { name: 'cm' }, data: { 'a/b': 'x' } })),
    `ConfigMap "cm" is invalid: data[a/b]: Invalid value: "a/b": ${keyMessage}`);
  assert.equal(refusal(() => r.create(configMapType, 'default', { metadata: { name: 'cm' }, binaryData: { 'a b': b64('x') } })),
    `ConfigMap "cm" is invalid: binaryData[a b]: Invalid value: "a b": ${keyMessage}`);
  assert.equal(refusal(() => r.create(configMapType, 'default', { metadata: { name: 'cm' }, data: { k: 'x' }, binaryData: { k: b64('x') } })),
    'ConfigMap "cm" is invalid: data[k]: Invalid value: "k": duplicate of key present in binaryData');
  const ok = r.create(configMapType, 'default', { metadata: { name: 'cm' }, data: { 'app.conf': 'x' } });
  assert.equal(refusal(() => r.update(configMapType, 'default', 'cm', { ...ok, data: { 'bad key': 'y' } })),
    `ConfigMap "cm" is invalid: data[bad key]: Invalid value: "bad key": ${keyMessage}`);
});

test('Secret keys are checked in data and stringData (reported under data)', () => {
  const r = setup();
  assert.equal(refusal(() => r.create(secretType, 'default', { metadata: { name: 's' }, data: { '': b64('x') } })),
    `Secret "s" is invalid: data[]: Invalid value: "": ${keyMessage}`);
  assert.equal(refusal(() => r.create(secretType, 'default', { metadata: { name: 's' }, stringData: { 'my key': 'x' } })),
    `Secret "s" is invalid: data[my key]: Invalid value: "my key": ${keyMessage}`);
});

test('built-in Secret types need their keys', () => {
  const r = setup();
  const secret = (name: string, type: string, more: Record<string, unknown> = {}) => ({ metadata: { name }, type, ...more });
  assert.equal(refusal(() => r.create(secretType, 'default', secret('tls', 'kubernetes.io/tls', { data: { 'tls.crt': b64('c') } }))),
    'Secret "tls" is invalid: data[tls.key]: Required value');
  assert.equal(refusal(() => r.create(secretType, 'default', secret('tls', 'kubernetes.io/tls'))),
    'Secret "tls" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]');
  assert.equal(refusal(() => r.create(secretType, 'default', secret('pull', 'kubernetes.io/dockerconfigjson'))),
    'Secret "pull" is invalid: data[.dockerconfigjson]: Required value');
  assert.equal(refusal(() => r.create(secretType, 'default', secret('pull', 'kubernetes.io/dockerconfigjson', { stringData: { '.dockerconfigjson': 'x: 1' } }))),
    'Secret "pull" is invalid: data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character \'x\' looking for beginning of value');
  assert.equal(refusal(() => r.create(secretType, 'default', secret('pull', 'kubernetes.io/dockerconfigjson', { stringData: { '.dockerconfigjson': '[]' } }))),
    'Secret "pull" is invalid: data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}');
  assert.equal(refusal(() => r.create(secretType, 'default', secret('sa', 'kubernetes.io/service-account-token'))),
    'Secret "sa" is invalid: metadata.annotations[kubernetes.io/service-account.name]: Required value');
  assert.equal(refusal(() => r.create(secretType, 'default', secret('basic', 'kubernetes.io/basic-auth'))),
    'Secret "basic" is invalid: [data[username]: Required value, data[password]: Required value]');
  assert.equal(refusal(() => r.create(secretType, 'default', secret('ssh', 'kubernetes.io/ssh-auth'))),
    'Secret "ssh" is invalid: data[ssh-privatekey]: Required value');
  // Each with its keys is fine; so is a type kube does not know.
  assert.ok(r.create(secretType, 'default', secret('tls', 'kubernetes.io/tls', { stringData: { 'tls.crt': 'c', 'tls.key': 'k' } })));
  assert.ok(r.create(secretType, 'default', secret('pull', 'kubernetes.io/dockerconfigjson', { stringData: { '.dockerconfigjson': '{"auths":{}}' } })));
  assert.ok(r.create(secretType, 'default', { ...secret('sa', 'kubernetes.io/service-account-token'), metadata: { name: 'sa', annotations: { 'kubernetes.io/service-account.name': 'default' } } }));
  assert.ok(r.create(secretType, 'default', secret('custom', 'example.com/thing')));
});

test('a Secret\'s type never changes; an update that leaves it out means Opaque', () => {
  const r = setup();
  const s = r.create(secretType, 'default', { metadata: { name: 's' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'c', 'tls.key': 'k' } });
  assert.equal(refusal(() => r.update(secretType, 'default', 's', { ...s, type: 'Opaque' })),
    'Secret "s" is invalid: type: Invalid value: "Opaque": field is immutable');
  const { type: _type, ...untyped } = s;
  assert.equal(refusal(() => r.update(secretType, 'default', 's', untyped)), 'Secret "s" is invalid: type: Invalid value: "Opaque": field is immutable');
  assert.equal(r.update(secretType, 'default', 's', { ...s, metadata: { ...s.metadata, labels: { a: 'b' } } }).type, 'kubernetes.io/tls');
  assert.equal(r.create(secretType, 'default', { metadata: { name: 'o' }, type: '' }).type, 'Opaque');
});
