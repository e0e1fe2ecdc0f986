// What goes into content volumes: keys and items with their modes, optional objects and keys,
// the kubelet's error texts, and downward API formatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import type { V1Pod } from '@kubernetes/client-node';
import { configMapBytes, keysPayload, secretBytes } from '../../src/volume/key-projection.ts';
import { downwardApiPayload, formatMap, goQuote, podFieldText } from '../../src/volume/downward-api.ts';
import { projectedPayload } from '../../src/volume/volume-content.ts';
import type { Payload } from '../../src/volume/atomic-writer.ts';
import type { VolumeSources } from '../../src/volume/pod-volumes.ts';

const asText = (p: Payload) => Object.fromEntries([...p].map(([k, v]) => [k, [v.data.toString(), v.mode.toString(8)]]));
const data = new Map([['a', Buffer.from('A')], ['b', Buffer.from('B')]]);

test('keys: every key as a file with defaultMode 0644 when no items', () => {
  assert.deepEqual(asText(keysPayload({ kind: 'configmap', name: 'c', data })), { a: ['A', '644'], b: ['B', '644'] });
  assert.deepEqual(asText(keysPayload({ kind: 'configmap', name: 'c', data, defaultMode: 0o400 })), { a: ['A', '400'], b: ['B', '400'] });
});

test('keys: items pick keys to (nested) paths, with their own mode or the default', () => {
  const p = keysPayload({ kind: 'secret', name: 's', data, defaultMode: 0o440, items: [{ key: 'a', path: 'x/y/a.txt', mode: 0o600 }, { key: 'b', path: 'b2' }] });
  assert.deepEqual(asText(p), { 'x/y/a.txt': ['A', '600'], b2: ['B', '440'] });
});

const keyErrors: Array<[string, Parameters<typeof keysPayload>[0], RegExp | Record<string, [string, string]>]> = [
  ['missing configmap', { kind: 'configmap', name: 'nope', data: undefined }, /^configmap "nope" not found$/],
  ['missing secret', { kind: 'secret', name: 'nope', data: undefined }, /^secret "nope" not found$/],
  ['missing optional object: empty', { kind: 'configmap', name: 'nope', data: undefined, optional: true, items: [{ key: 'a', path: 'a' }] }, {}],
  ['missing configmap key', { kind: 'configmap', name: 'c', data, items: [{ key: 'zz', path: 'z' }] }, /^configmap references non-existent config key: zz$/],
  ['missing secret key', { kind: 'secret', name: 's', data, items: [{ key: 'zz', path: 'z' }] }, /^references non-existent secret key: zz$/],
  ['missing key of optional source: skipped', { kind: 'secret', name: 's', data, optional: true, items: [{ key: 'zz', path: 'z' }, { key: 'a', path: 'a' }] }, { a: ['A', '644'] }],
];
for (const [name, source, expected] of keyErrors) {
  test(`keys: ${name}`, () => {
    if (expected instanceof RegExp) assert.throws(() => keysPayload(source), (err: Error) => expected.test(err.message));
    else assert.deepEqual(asText(keysPayload(source)), expected);
  });
}

test('keys: configMap binaryData and secret data are bytes, not text', () => {
  const bin = Buffer.from([0, 255, 1]);
  assert.deepEqual(configMapBytes({ data: { t: 'é' }, binaryData: { b: bin.toString('base64') } })!.get('b'), bin);
  assert.deepEqual(configMapBytes({ data: { t: 'é' } })!.get('t'), Buffer.from('é'));
  assert.deepEqual(secretBytes({ data: { k: bin.toString('base64') } })!.get('k'), bin);
  assert.equal(secretBytes(undefined), undefined);
});

const pod: V1Pod = {
  metadata: { name: 'web', namespace: 'ns', uid: 'u-1', labels: { b: '2', a: 'one "quoted"\n' }, annotations: { 'x.io/k': 'v\tü' } },
  spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m' } } }] },
};

test('downward API: labels and annotations as sorted key="value" lines, Go-quoted, no final newline', () => {
  assert.equal(podFieldText(pod, 'metadata.labels'), 'a="one \\"quoted\\"\\n"\nb="2"');
  assert.equal(podFieldText(pod, 'metadata.annotations'), 'x.io/k="v\\tü"');
  assert.equal(formatMap({}), '');
  assert.equal(formatMap(undefined), '');
});

const quotes: Array<[string, string]> = [['plain', '"plain"'], ['a\\b', '"a\\\\b"'], ['\x07\x00\x7f', '"\\a\\x00\\x7f"'], ['日本', '"日本"'], ['\u200b', '"\\u200b"']];
for (const [input, quoted] of quotes) test(`downward API: Go quoting of ${JSON.stringify(input)}`, () => assert.equal(goQuote(input), quoted));

test('downward API: name, namespace, uid, one label; status fields are refused', () => {
  assert.equal(podFieldText(pod, 'metadata.name'), 'web');
  assert.equal(podFieldText(pod, 'metadata.namespace'), 'ns');
  assert.equal(podFieldText(pod, 'metadata.uid'), 'u-1');
  assert.equal(podFieldText(pod, "metadata.labels['b']"), '2');
  assert.throws(() => podFieldText(pod, 'status.podIP'), /unsupported fieldPath: status.podIP/);
});

test('downward API: resourceFieldRef with divisor; an unset limit is the node\'s', () => {
  const p = downwardApiPayload(pod, [
    { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
    { path: 'cpu_req', resourceFieldRef: { containerName: 'c', resource: 'requests.cpu', divisor: '1m' } },
    { path: 'cpu_lim', resourceFieldRef: { containerName: 'c', resource: 'limits.cpu' } },
    { path: 'name', fieldRef: { fieldPath: 'metadata.name' }, mode: 0o400 },
  ], 0o444);
  assert.deepEqual(asText(p), { mem: ['64', '444'], cpu_req: ['250', '444'], cpu_lim: [String(cpus().length), '444'], name: ['web', '400'] });
});

function fakeSources(overrides: Partial<VolumeSources>): VolumeSources {
  return {
    getConfigMap: async () => undefined, getSecret: async () => undefined,
    getPersistentVolumeClaim: async () => undefined, getPersistentVolume: async () => undefined,
    requestServiceAccountToken: async () => ({ token: 'tok', expirationTimestamp: new Date(Date.now() + 3600_000) }),
    watchObject: () => () => {}, ...overrides,
  };
}

test('projected: sources share one directory; token 0600 under fsGroup; errors of all sources reported together', async () => {
  const sources = fakeSources({ getConfigMap: async (_ns, name) => (name === 'ca' ? { data: { 'ca.crt': 'CA' } } : undefined) });
  const tokens = { token: async () => 'tok' } as never;
  const ctx = { pod, sources, tokens };
  const src = { sources: [{ serviceAccountToken: { path: 'token' } }, { configMap: { name: 'ca' } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } }] };
  assert.deepEqual(asText(await projectedPayload(ctx, src, false)), { token: ['tok', '644'], 'ca.crt': ['CA', '644'], namespace: ['ns', '644'] });
  assert.equal((await projectedPayload(ctx, src, true)).get('token')!.mode, 0o600);
  await assert.rejects(projectedPayload(ctx, { sources: [{ configMap: { name: 'x' } }, { secret: { name: 'y' } }] }, false), /^Error: \[configmap "x" not found, secret "y" not found\]$/);
  await assert.rejects(projectedPayload({ pod, sources: undefined, tokens: undefined }, { sources: [{ serviceAccountToken: { path: 't' } }] }, false), /need an API server/);
});
