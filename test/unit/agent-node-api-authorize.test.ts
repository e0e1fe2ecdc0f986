// The node API's authorization: the kubelet's request → attributes mapping (a table), the
// fine-grained subresources' fallback to proxy, the SubjectAccessReview cache with its two
// TTLs, failures as 500 (never cached, never 200), standalone and AlwaysAllow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessReviewRequest, AccessReviewResult } from '../../src/agent/api/kube-api.ts';
import { createAuthorizer, isSubpath, nodeRequestAttributes } from '../../src/agent/server/auth/authorize.ts';

const node = 'node-a';
const alice = { name: 'alice', groups: ['devs', 'system:authenticated'] };

const mapping: Array<[string, string, string, string[]]> = [
  // method, path, verb, subresources in the order they are tried
  ['GET', '/containerLogs/ns/pod/c', 'get', ['proxy']],
  ['POST', '/exec/ns/pod/c', 'create', ['proxy']],
  ['GET', '/exec/ns/pod/c', 'get', ['proxy']],
  ['PUT', '/run/ns/pod/c', 'update', ['proxy']],
  ['PATCH', '/attach/ns/pod/c', 'patch', ['proxy']],
  ['DELETE', '/portForward/ns/pod', 'delete', ['proxy']],
  ['HEAD', '/pods', 'get', ['pods', 'proxy']],
  ['OPTIONS', '/pods', '', ['pods', 'proxy']],
  ['GET', '/pods', 'get', ['pods', 'proxy']],
  ['GET', '/pods/', 'get', ['pods', 'proxy']],
  ['GET', '/podsx', 'get', ['proxy']],
  ['GET', '/healthz', 'get', ['healthz', 'proxy']],
  ['GET', '/healthz/ping', 'get', ['healthz', 'proxy']],
  ['GET', '/configz', 'get', ['configz', 'proxy']],
  ['GET', '/runningpods/', 'get', ['pods', 'proxy']],
  ['GET', '/stats', 'get', ['stats']],
  ['GET', '/stats/summary', 'get', ['stats']],
  ['GET', '/statsx', 'get', ['proxy']],
  ['GET', '/metrics', 'get', ['metrics']],
  ['GET', '/metrics/cadvisor', 'get', ['metrics']],
  ['GET', '/logs/', 'get', ['log']],
  ['GET', '/logs/syslog', 'get', ['log']],
  ['GET', '/spec/', 'get', ['spec']],
  ['POST', '/checkpoint/ns/pod/c', 'create', ['checkpoint']],
  ['GET', '/', 'get', ['proxy']],
];

for (const [method, path, verb, subresources] of mapping) {
  test(`${method} ${path} → verb ${verb || '(none)'}, nodes/${subresources.join(' then nodes/')}`, () => {
    const attrs = nodeRequestAttributes(method, path, node);
    assert.deepEqual(attrs.map((a) => a.subresource), subresources);
    for (const a of attrs) {
      assert.deepEqual({ ...a, subresource: '' }, { verb, resource: 'nodes', subresource: '', name: node, apiGroup: '', apiVersion: 'v1', path });
    }
  });
}

test('isSubpath is the kubelet\'s: the path itself or below it, with or without a trailing slash', () => {
  assert.equal(isSubpath('/stats', '/stats'), true);
  assert.equal(isSubpath('/stats/', '/stats'), true);
  assert.equal(isSubpath('/stats/x', '/stats/'), true);
  assert.equal(isSubpath('/statsx', '/stats'), false);
  assert.equal(isSubpath('/stat', '/stats'), false);
});

/** A fake SubjectAccessReview: allows what `allowed` names ("verb nodes/sub"), counts calls. */
function fakeReviews(allowed: Set<string>, reason = 'no RBAC policy matched') {
  const calls: AccessReviewRequest[] = [];
  const reviewAccess = async (r: AccessReviewRequest): Promise<AccessReviewResult> => {
    calls.push(r);
    return allowed.has(`${r.verb} ${r.resource}/${r.subresource}`) ? { allowed: true } : { allowed: false, reason };
  };
  return { calls, reviewAccess };
}

test('Webhook: each attribute is reviewed with the user, groups and node; a fine-grained denial falls back to proxy', async () => {
  const reviews = fakeReviews(new Set(['get nodes/proxy']));
  const authorize = createAuthorizer({ mode: 'Webhook', review: { reviewAccess: reviews.reviewAccess, cacheAuthorizedTtlMs: 1000, cacheUnauthorizedTtlMs: 1000 } });
  const decision = await authorize({ ...alice, uid: 'u-1' }, nodeRequestAttributes('GET', '/pods', node));
  assert.equal(decision.allowed, true);
  assert.deepEqual(reviews.calls, [
    { user: 'alice', uid: 'u-1', groups: alice.groups, verb: 'get', resource: 'nodes', subresource: 'pods', name: node, group: '', version: 'v1' },
    { user: 'alice', uid: 'u-1', groups: alice.groups, verb: 'get', resource: 'nodes', subresource: 'proxy', name: node, group: '', version: 'v1' },
  ]);
});

test('Webhook: denied is 403 with the kubelet\'s text and the review\'s reason', async () => {
  const reviews = fakeReviews(new Set());
  const authorize = createAuthorizer({ mode: 'Webhook', review: { reviewAccess: reviews.reviewAccess, cacheAuthorizedTtlMs: 1000, cacheUnauthorizedTtlMs: 1000 } });
  const decision = await authorize(alice, nodeRequestAttributes('GET', '/pods', node));
  assert.deepEqual(decision, {
    allowed: false, status: 403, reason: 'no RBAC policy matched',
    message: 'Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[pods proxy]): no RBAC policy matched',
  });
  const logs = await authorize(alice, nodeRequestAttributes('GET', '/containerLogs/a/b/c', node));
  assert.equal(!logs.allowed && logs.message, 'Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[proxy]): no RBAC policy matched');
});

test('Webhook: allowed answers are cached for the authorized TTL, denied ones for the unauthorized TTL, per user and groups', async () => {
  let now = 0;
  const allowed = new Set(['get nodes/proxy']);
  const reviews = fakeReviews(allowed);
  const authorize = createAuthorizer({ mode: 'Webhook', review: { reviewAccess: reviews.reviewAccess, cacheAuthorizedTtlMs: 5000, cacheUnauthorizedTtlMs: 300 }, now: () => now });
  const logs = nodeRequestAttributes('GET', '/containerLogs/a/b/c', node);
  const exec = nodeRequestAttributes('POST', '/exec/a/b/c', node);
  assert.equal((await authorize(alice, logs)).allowed, true);
  assert.equal((await authorize(alice, exec)).allowed, false);
  assert.equal(reviews.calls.length, 2);
  // Cached: the same questions ask no one, even though the policy changed meanwhile.
  allowed.add('create nodes/proxy');
  allowed.delete('get nodes/proxy');
  assert.equal((await authorize(alice, logs)).allowed, true);
  assert.equal((await authorize(alice, exec)).allowed, false);
  assert.equal(reviews.calls.length, 2);
  // Another user, or the same name in other groups, is another question.
  assert.equal((await authorize({ name: 'alice', groups: ['system:authenticated'] }, logs)).allowed, false);
  assert.equal(reviews.calls.length, 3);
  // Past the unauthorized TTL the denial is asked again; the allowed answer still stands.
  now = 301;
  assert.equal((await authorize(alice, exec)).allowed, true);
  assert.equal((await authorize(alice, logs)).allowed, true);
  assert.equal(reviews.calls.length, 4);
  now = 5001;
  assert.equal((await authorize(alice, logs)).allowed, false);
  assert.equal(reviews.calls.length, 5);
});

test('Webhook: a failed review is a 500 with a clear message, reported, and not cached', async () => {
  let fail = true;
  const errors: unknown[] = [];
  const authorize = createAuthorizer({
    mode: 'Webhook',
    review: {
      reviewAccess: async () => {
        if (fail) throw new Error('connect ECONNREFUSED');
        return { allowed: true };
      },
      cacheAuthorizedTtlMs: 1000, cacheUnauthorizedTtlMs: 1000,
    },
    onReviewError: (err) => errors.push(err),
  });
  const attrs = nodeRequestAttributes('GET', '/containerLogs/a/b/c', node);
  const failed = await authorize(alice, attrs);
  assert.equal(failed.allowed, false);
  assert.equal(!failed.allowed && failed.status, 500);
  assert.match(!failed.allowed ? failed.message : '', /^Authorization error \(user=alice, verb=get, resource=nodes, subresource\(s\)=\[proxy\]\)/);
  assert.equal(errors.length, 1);
  fail = false;
  assert.equal((await authorize(alice, attrs)).allowed, true);
});

test('Webhook without an API server (standalone) refuses everything with the reason; AlwaysAllow allows', async () => {
  const standalone = createAuthorizer({ mode: 'Webhook', review: { unavailable: 'no API server to ask' } });
  const refused = await standalone(alice, nodeRequestAttributes('GET', '/pods', node));
  assert.equal(!refused.allowed && refused.status, 403);
  assert.match(!refused.allowed ? refused.message : '', /^Forbidden \(user=alice, .*\): no API server to ask$/);
  const always = createAuthorizer({ mode: 'AlwaysAllow' });
  assert.equal((await always(alice, nodeRequestAttributes('POST', '/exec/a/b/c', node))).allowed, true);
});
