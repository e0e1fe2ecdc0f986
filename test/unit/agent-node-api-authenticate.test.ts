// The node API's authentication, on fake requests: client certificates as the TLS layer
// judged them, bearer tokens through a fake TokenReview (cached, failures not), anonymous.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { TokenReviewResult } from '../../src/agent/api/kube-api.ts';
import { bearerToken, createAuthenticator, type AuthenticatorOptions } from '../../src/agent/server/auth/authenticate.ts';
import { ReviewCache } from '../../src/agent/server/auth/review-cache.ts';

interface FakeRequest {
  cert?: { CN?: string; O?: string | string[] };
  authorized?: boolean;
  authorization?: string;
}

function request(r: FakeRequest): IncomingMessage {
  return {
    headers: r.authorization ? { authorization: r.authorization } : {},
    socket: {
      authorized: r.authorized ?? false,
      authorizationError: r.authorized ? null : 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      getPeerCertificate: () => (r.cert ? { subject: r.cert } : {}),
    },
  } as unknown as IncomingMessage;
}

/** A fake TokenReview: "good-token" is bob; "boom" fails; anything else is unauthenticated. */
function fakeTokenReview() {
  const calls: string[] = [];
  const review = async (token: string): Promise<TokenReviewResult> => {
    calls.push(token);
    if (token === 'boom') throw new Error('connect ECONNREFUSED');
    return token === 'good-token'
      ? { authenticated: true, user: { username: 'bob', uid: 'b-1', groups: ['ops', 'system:authenticated'] } }
      : { authenticated: false, error: 'invalid bearer token' };
  };
  return { calls, review };
}

function authenticator(over: Partial<AuthenticatorOptions> = {}, now?: () => number) {
  const reviews = fakeTokenReview();
  const authenticate = createAuthenticator({ x509: true, tokens: { review: reviews.review, cacheTtlMs: 1000 }, anonymous: false, now, ...over });
  return { authenticate, reviews };
}

test('bearer tokens are read from "Authorization: Bearer <token>" only', () => {
  assert.equal(bearerToken('Bearer abc'), 'abc');
  assert.equal(bearerToken('bearer abc'), 'abc');
  assert.equal(bearerToken('  Bearer abc  '), 'abc');
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken('Bearer'), undefined);
  assert.equal(bearerToken('Bearer  abc'), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test('no credentials: 401 unless anonymous is on, then system:anonymous in system:unauthenticated', async () => {
  const off = await authenticator().authenticate(request({}));
  assert.deepEqual(off, { ok: false, reason: 'no credentials (anonymous access is off)' });
  const on = await authenticator({ anonymous: true }).authenticate(request({}));
  assert.deepEqual(on, { ok: true, method: 'anonymous', user: { name: 'system:anonymous', groups: ['system:unauthenticated'] } });
});

test('a verified client certificate: CN is the user, O the groups, plus system:authenticated', async () => {
  const result = await authenticator().authenticate(request({ cert: { CN: 'admin', O: ['system:masters', 'ops'] }, authorized: true }));
  assert.deepEqual(result, { ok: true, method: 'x509', user: { name: 'admin', groups: ['system:masters', 'ops', 'system:authenticated'] } });
});

test('a certificate that does not verify is refused, never anonymous', async () => {
  const result = await authenticator({ anonymous: true }).authenticate(request({ cert: { CN: 'admin' }, authorized: false }));
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.reason : '', /client certificate not verified.*UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  const noName = await authenticator().authenticate(request({ cert: { O: 'ops' }, authorized: true }));
  assert.equal(noName.ok, false);
});

test('a valid token authenticates (as kube\'s union: even beside a certificate that did not verify)', async () => {
  const { authenticate } = authenticator();
  const result = await authenticate(request({ authorization: 'Bearer good-token', cert: { CN: 'x' }, authorized: false }));
  assert.deepEqual(result, { ok: true, method: 'token', user: { name: 'bob', uid: 'b-1', groups: ['ops', 'system:authenticated'] } });
});

test('a bogus token is 401, even with anonymous on', async () => {
  const result = await authenticator({ anonymous: true }).authenticate(request({ authorization: 'Bearer forged' }));
  assert.deepEqual(result, { ok: false, reason: 'token not authenticated: invalid bearer token' });
});

test('token reviews are cached for the TTL (both answers); a failed review is a 401 and not cached', async () => {
  let now = 0;
  const { authenticate, reviews } = authenticator({}, () => now);
  for (let i = 0; i < 3; i++) {
    assert.equal((await authenticate(request({ authorization: 'Bearer good-token' }))).ok, true);
    assert.equal((await authenticate(request({ authorization: 'Bearer forged' }))).ok, false);
  }
  assert.deepEqual(reviews.calls, ['good-token', 'forged']);
  now = 1001;
  await authenticate(request({ authorization: 'Bearer good-token' }));
  assert.deepEqual(reviews.calls, ['good-token', 'forged', 'good-token']);

  for (let i = 0; i < 2; i++) {
    const failed = await authenticate(request({ authorization: 'Bearer boom' }));
    assert.equal(failed.ok, false);
    assert.match(!failed.ok ? failed.reason : '', /TokenReview failed: connect ECONNREFUSED/);
  }
  assert.equal(reviews.calls.filter((t) => t === 'boom').length, 2);
});

test('standalone: a token cannot be checked and is refused with the reason; token auth off ignores tokens', async () => {
  const standalone = createAuthenticator({ x509: false, tokens: { unavailable: 'no API server' }, anonymous: true });
  assert.deepEqual(await standalone(request({ authorization: 'Bearer good-token' })), { ok: false, reason: 'no API server' });
  const off = createAuthenticator({ x509: false, anonymous: true });
  assert.equal((await off(request({ authorization: 'Bearer forged' }))).ok, true, 'as the kubelet: without the token webhook, a token is no credential');
  // Without x509 configured, a presented certificate is not looked at.
  const noX509 = createAuthenticator({ x509: false, anonymous: false });
  assert.equal((await noX509(request({ cert: { CN: 'admin' }, authorized: true }))).ok, false);
});

test('the review cache expires entries, ignores TTL 0, and stays within its bound, oldest out first', () => {
  let now = 0;
  const cache = new ReviewCache<number>({ maxEntries: 2, now: () => now });
  cache.set('a', 1, 100);
  cache.set('zero', 9, 0);
  assert.equal(cache.get('zero'), undefined);
  cache.set('b', 2, 100);
  cache.set('c', 3, 100);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('a'), undefined);
  assert.equal(cache.get('c'), 3);
  now = 100;
  assert.equal(cache.get('c'), undefined);
});
