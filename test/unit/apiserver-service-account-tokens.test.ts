// Service-account tokens: issued with kube's claims, refused with kube's reasons once expired,
// meant for another audience, or bound to something that is gone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceAccountTokens, TokenRejected } from '../../src/apiserver/auth/service-account-tokens.ts';
import { ObjectStore } from '../../src/apiserver/store.ts';

async function setup() {
  const store = new ObjectStore();
  const sa = store.create('serviceaccounts', { metadata: { name: 'robot', namespace: 'ns', uid: 'sa-uid' } });
  const pod = store.create('pods', { metadata: { name: 'p', namespace: 'ns', uid: 'pod-uid' }, spec: {} });
  return { store, sa, pod, tokens: await ServiceAccountTokens.create(store) };
}

const rejection = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TokenRejected, String(err));
    return err.message;
  }
  assert.fail('the token was accepted');
};

test('a token names its service account, pod and audiences, and authenticates as the service account', async () => {
  const { tokens, sa, pod } = await setup();
  const { token, expirationTimestamp } = await tokens.issue({ serviceAccount: sa, audiences: ['a', 'b'], expirationSeconds: 600, pod });
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
  assert.equal(claims.sub, 'system:serviceaccount:ns:robot');
  assert.deepEqual(claims.aud, ['a', 'b']);
  assert.equal(claims.exp - claims.iat, 600);
  assert.equal(claims.nbf, claims.iat);
  assert.match(claims.jti, /^[0-9a-f-]{36}$/);
  assert.deepEqual(claims['kubernetes.io'], { namespace: 'ns', serviceaccount: { name: 'robot', uid: 'sa-uid' }, pod: { name: 'p', uid: 'pod-uid' } });
  assert.equal(Date.parse(expirationTimestamp), claims.exp * 1000);

  const answer = await tokens.authenticate(token, ['b', 'c']);
  assert.deepEqual(answer?.audiences, ['b']);
  assert.equal(answer?.user.name, 'system:serviceaccount:ns:robot');
  assert.equal(answer?.user.uid, 'sa-uid');
  assert.deepEqual(answer?.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:ns']);
  assert.deepEqual(answer?.user.extra?.['authentication.kubernetes.io/pod-name'], ['p']);
  assert.deepEqual(answer?.user.extra?.['authentication.kubernetes.io/credential-id'], [`JTI=${claims.jti}`]);
});

test('tokens of other issuers are not ours; ours fail with the reason kube gives', async () => {
  const { tokens, store, sa, pod } = await setup();
  assert.equal(await tokens.authenticate('not.a.jwt'), undefined);
  const other = await ServiceAccountTokens.create(store, 'https://elsewhere');
  assert.equal(await tokens.authenticate((await other.issue({ serviceAccount: sa, audiences: ['https://elsewhere'], expirationSeconds: 600 })).token), undefined);

  const expired = await tokens.issue({ serviceAccount: sa, audiences: [tokens.issuer], expirationSeconds: 600 }, new Date(Date.now() - 3_600_000));
  assert.equal(await rejection(tokens.authenticate(expired.token)), 'service account token has expired');
  const forVault = await tokens.issue({ serviceAccount: sa, audiences: ['vault'], expirationSeconds: 600 });
  assert.equal(await rejection(tokens.authenticate(forVault.token)),
    'token audiences ["vault"] is invalid for the target audiences ["https://kubernetes.default.svc.cluster.local"]');
  const [head, body] = forVault.token.split('.');
  const sigOfOther = (await tokens.issue({ serviceAccount: sa, audiences: ['x'], expirationSeconds: 600 })).token.split('.')[2];
  assert.equal(await rejection(tokens.authenticate(`${head}.${body}.${sigOfOther}`, ['vault'])), 'go-jose/go-jose: error in cryptographic primitive');

  const bound = await tokens.issue({ serviceAccount: sa, audiences: [tokens.issuer], expirationSeconds: 600, pod });
  store.delete('pods', 'ns', 'p');
  assert.equal(await rejection(tokens.authenticate(bound.token)), 'service account token has been invalidated');
  store.create('pods', { metadata: { name: 'p', namespace: 'ns', uid: 'new-uid' }, spec: {} });
  assert.equal(await rejection(tokens.authenticate(bound.token)), 'pod UID (new-uid) does not match service account pod ref claim (pod-uid)');

  const plain = await tokens.issue({ serviceAccount: sa, audiences: [tokens.issuer], expirationSeconds: 600 });
  store.delete('serviceaccounts', 'ns', 'robot');
  store.create('serviceaccounts', { metadata: { name: 'robot', namespace: 'ns', uid: 'other' } });
  assert.equal(await rejection(tokens.authenticate(plain.token)), 'service account UID (other) does not match claim (sa-uid)');
  store.delete('serviceaccounts', 'ns', 'robot');
  assert.equal(await rejection(tokens.authenticate(plain.token)), 'serviceaccounts "robot" not found');
});
