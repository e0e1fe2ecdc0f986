// Bootstrap tokens as kube-apiserver reads them: which Secret authenticates, as whom, and why
// one that does not is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectStore } from '../../src/apiserver/store.ts';
import { ResourceService } from '../../src/apiserver/resources.ts';
import { resourceTypes } from '../../src/apiserver/registry.ts';
import { authenticateBootstrapToken } from '../../src/apiserver/auth/bootstrap-tokens.ts';
import { TokenRejected } from '../../src/apiserver/auth/service-account-tokens.ts';

const secrets = resourceTypes.find((t) => t.plural === 'secrets' && !t.group)!;
const namespaces = resourceTypes.find((t) => t.plural === 'namespaces')!;
const now = new Date('2026-12-03T12:00:00Z');

function storeWith(stringData: Record<string, string>, type = 'bootstrap.kubernetes.io/token'): ObjectStore {
  const store = new ObjectStore();
  const resources = new ResourceService(store);
  resources.create(namespaces, '', { metadata: { name: 'kube-system' } });
  resources.create(secrets, 'kube-system', { metadata: { name: 'bootstrap-token-abcdef' }, type, stringData });
  return store;
}
const good = { 'token-id': 'abcdef', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true' };

test('a valid token is system:bootstrap:<id> in system:bootstrappers and its extra groups', () => {
  const store = storeWith({ ...good, 'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token', expiration: '2026-12-04T00:00:00Z' });
  assert.deepEqual(authenticateBootstrapToken('abcdef.0123456789abcdef', store, now), {
    name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'],
  });
});

test('a token of another shape is not a bootstrap token (undefined: the next authenticator decides)', () => {
  assert.equal(authenticateBootstrapToken('eyJhbGciOi.x.y', storeWith(good), now), undefined);
  assert.equal(authenticateBootstrapToken('ABCDEF.0123456789abcdef', storeWith(good), now), undefined);
});

const refusals: Array<[string, Record<string, string>, string, RegExp, string?]> = [
  ['the Secret is gone', good, 'zzzzzz.0123456789abcdef', /no bootstrap token with id zzzzzz/],
  ['the secret half is wrong', good, 'abcdef.ffffffffffffffff', /the secret does not match/],
  ['expired', { ...good, expiration: '2026-12-03T11:59:59Z' }, 'abcdef.0123456789abcdef', /expired at 2026-12-03T11:59:59Z/],
  ['not for authentication', { ...good, 'usage-bootstrap-authentication': 'false' }, 'abcdef.0123456789abcdef', /usage-bootstrap-authentication/],
  ['a group outside system:bootstrappers:', { ...good, 'auth-extra-groups': 'system:masters' }, 'abcdef.0123456789abcdef', /system:masters/],
  ['the wrong Secret type', good, 'abcdef.0123456789abcdef', /is not of type/, 'Opaque'],
];
for (const [why, data, token, message, type] of refusals) {
  test(`refused when ${why}`, () => {
    assert.throws(() => authenticateBootstrapToken(token, storeWith(data, type), now), (err: unknown) => err instanceof TokenRejected && message.test(err.message));
  });
}

test('the token cleaner deletes a bootstrap token Secret once it has expired, and leaves a live one', async () => {
  const { pino } = await import('pino');
  const { BootstrapTokenCleaner } = await import('../../src/apiserver/bootstrap-token-cleaner.ts');
  const { pollFor } = await import('../../src/world/wait.ts');
  const store = new ObjectStore();
  const resources = new ResourceService(store);
  resources.create(namespaces, '', { metadata: { name: 'kube-system' } });
  const cleaner = new BootstrapTokenCleaner(resources, pino({ level: 'silent' }));
  const token = (id: string, expiration: string) => resources.create(secrets, 'kube-system', {
    metadata: { name: `bootstrap-token-${id}` }, type: 'bootstrap.kubernetes.io/token', stringData: { ...good, 'token-id': id, expiration },
  });
  const soon = new Date(Date.now() + 200).toISOString();
  token('aaaaaa', soon);
  token('bbbbbb', new Date(Date.now() + 3600_000).toISOString());
  const secretKey = 'secrets';
  await pollFor(() => store.get(secretKey, 'kube-system', 'bootstrap-token-aaaaaa') === undefined || undefined, { what: 'the expired token deleted', timeoutMs: 5_000, intervalMs: 20 });
  assert.ok(store.get(secretKey, 'kube-system', 'bootstrap-token-bbbbbb'), 'the live token stays');
  cleaner.stop();
});
