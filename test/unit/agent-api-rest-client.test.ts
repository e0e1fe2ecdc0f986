// The agent's REST layer (rest-client.ts, watch-stream.ts, watch-lines.ts) against a plain HTTP
// server that records what it is sent: each call's method, path, query and content type (merge
// and strategic-merge patches), the kubeconfig's bearer token, errors as KubeApiError with the
// status (404 → undefined where KubeApi says so), and watches: lines split across chunks, an
// ERROR event carrying a Status, a refused watch, a server close and a quiet stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '../../src/agent/api/kubeconfig.ts';
import { createKubeApi, statusOf } from '../../src/agent/api/kube-api.ts';
import { KubeApiError } from '../../src/agent/api/kube-api-error.ts';
import { createRestClient } from '../../src/agent/api/rest-client.ts';
import { createWatcher } from '../../src/agent/api/watch-stream.ts';
import { watchLineParser } from '../../src/agent/api/watch-lines.ts';

interface Seen { method: string; path: string; query: Record<string, string>; contentType?: string; accept?: string; authorization?: string; body?: unknown }
type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

async function fakeApiServer(t: { after(fn: () => Promise<void>): void }, handle: Handler) {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const url = new URL(req.url!, 'http://x');
    const s: Seen = {
      method: req.method!, path: url.pathname, query: Object.fromEntries(url.searchParams),
      contentType: req.headers['content-type'], accept: req.headers.accept, authorization: req.headers.authorization,
      ...(text ? { body: JSON.parse(text) } : {}),
    };
    seen.push(s);
    handle(req, res, s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'node-token' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return { kubeConfig, seen };
}

const json = (res: ServerResponse, code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, message, code });

test('each call: method, path, query, content type, Accept and the kubeconfig token', async (t) => {
  const { kubeConfig, seen } = await fakeApiServer(t, (req, res, s) => json(res, s.method === 'POST' ? 201 : 200, { kind: 'Echo', metadata: { name: 'x' } }));
  const api = createKubeApi(kubeConfig);
  await api.patchPodStatus('ns 1', 'p', { status: { phase: 'Running' } });
  await api.patchNodeStatus('n1', { phase: 'Running' });
  await api.patchEvent('ns', 'e1', { count: 2 });
  await api.createPod({ metadata: { name: 'p', namespace: 'ns' } });
  await api.deletePod('ns', 'p', 'uid-1', 30);
  await api.listPods('spec.nodeName=n1');
  await api.replaceLease({ metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: {} });
  assert.deepEqual(seen.map((s) => [s.method, s.path, s.query, s.contentType]), [
    ['PATCH', '/api/v1/namespaces/ns%201/pods/p/status', {}, 'application/merge-patch+json'],
    ['PATCH', '/api/v1/nodes/n1/status', {}, 'application/strategic-merge-patch+json'],
    ['PATCH', '/api/v1/namespaces/ns/events/e1', {}, 'application/merge-patch+json'],
    ['POST', '/api/v1/namespaces/ns/pods', {}, 'application/json'],
    ['DELETE', '/api/v1/namespaces/ns/pods/p', { gracePeriodSeconds: '30' }, 'application/json'],
    ['GET', '/api/v1/pods', { fieldSelector: 'spec.nodeName=n1' }, undefined],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1', {}, 'application/json'],
  ]);
  assert.deepEqual(seen[1]!.body, { status: { phase: 'Running' } });
  assert.deepEqual(seen[4]!.body, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 30, preconditions: { uid: 'uid-1' } });
  for (const s of seen) {
    assert.equal(s.authorization, 'Bearer node-token');
    assert.equal(s.accept, 'application/json, */*;q=0.8');
  }
});

test('errors: a KubeApiError with the status and the body; 404 is undefined where KubeApi says so', async (t) => {
  const { kubeConfig } = await fakeApiServer(t, (req, res, s) => {
    if (s.method === 'GET') return json(res, 404, status(404, 'NotFound', 'pods "p" not found'));
    if (s.method === 'DELETE') return json(res, 409, status(409, 'Conflict', 'uid precondition failed'));
    if (s.path.endsWith('/pods')) return json(res, 409, status(409, 'AlreadyExists', 'pods "p" already exists'));
    if (s.path.endsWith('/events')) return json(res, 422, status(422, 'Invalid', 'Event "e" is invalid: involvedObject: Required value'));
    res.writeHead(500).end('not json');
  });
  const api = createKubeApi(kubeConfig);
  assert.equal(await api.getPod('ns', 'p'), undefined);
  assert.equal(await api.getNode('n1'), undefined);
  assert.equal(await api.getRuntimeClassHandler('gvisor'), undefined);
  await api.deletePod('ns', 'p', 'uid', 0); // 409: a newer pod of that name, not ours: counts as done

  const conflict = await api.createPod({ metadata: { name: 'p', namespace: 'ns' } }).catch((err: unknown) => err);
  assert.ok(conflict instanceof KubeApiError);
  assert.equal(conflict.code, 409);
  assert.equal(statusOf(conflict), 409);
  assert.equal(conflict.status?.reason, 'AlreadyExists');
  assert.match(conflict.message, /POST \/api\/v1\/namespaces\/ns\/pods: HTTP 409 AlreadyExists: pods "p" already exists/);
  assert.match(conflict.body, /"kind":"Status"/);

  const invalid = await api.createEvent({ metadata: { name: 'e', namespace: 'ns' }, involvedObject: {} }).catch((err: unknown) => err);
  assert.equal(statusOf(invalid), 422);
  assert.match((invalid as Error).message, /involvedObject: Required value/);

  const broken = await api.patchPodStatus('ns', 'p', {}).catch((err: unknown) => err);
  assert.equal(statusOf(broken), 500);
  assert.equal((broken as KubeApiError).body, 'not json');
  assert.equal(statusOf(new Error('ECONNREFUSED')), undefined);
});

test('watch lines: a line split across chunks waits for its end; an ERROR carries its Status', () => {
  const events: Array<[string, unknown]> = [];
  const parser = watchLineParser((type, obj) => events.push([type, obj]));
  parser.push('{"type":"ADDED","object":{"metadata":{"na');
  assert.equal(events.length, 0);
  parser.push('me":"a","resourceVersion":"5"}}}\n{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"6"}}}\n');
  parser.push('not json\n\n{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}}');
  assert.equal(events.length, 2);
  parser.end(); // the last line had no newline
  assert.deepEqual(events, [
    ['ADDED', { metadata: { name: 'a', resourceVersion: '5' } }],
    ['BOOKMARK', { metadata: { resourceVersion: '6' } }],
    ['ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }],
  ]);
});

test('watch lines: a handler that throws does not stop the next events', () => {
  const types: string[] = [];
  const parser = watchLineParser((type) => {
    types.push(type);
    throw new Error('handler bug');
  });
  parser.push('{"type":"ADDED","object":{}}\n{"type":"MODIFIED","object":{}}\n');
  assert.deepEqual(types, ['ADDED', 'MODIFIED']);
});

test('watch stream: query as client-node sent it, events from split chunks, done once on server close', async (t) => {
  const { kubeConfig, seen } = await fakeApiServer(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MODI');
    setTimeout(() => res.end('FIED","object":{"metadata":{"name":"a"}}}\n{"type":"ERROR","object":{"kind":"Status","code":410}}\n'), 20);
  });
  const events: Array<[string, unknown]> = [];
  const ended = new Promise<unknown[]>((resolve) => {
    const calls: unknown[] = [];
    void createWatcher(createRestClient(kubeConfig)).watch('/api/v1/pods', { fieldSelector: 'spec.nodeName=n1', allowWatchBookmarks: true, resourceVersion: '7' },
      (type, obj) => events.push([type, obj]), (err) => {
        calls.push(err);
        setTimeout(() => resolve(calls), 50);
      });
  });
  assert.deepEqual(await ended, [undefined]);
  assert.deepEqual(events.map(([type]) => type), ['ADDED', 'MODIFIED', 'ERROR']);
  assert.deepEqual(events[2]![1], { kind: 'Status', code: 410 });
  assert.deepEqual(seen[0]!.query, { watch: 'true', fieldSelector: 'spec.nodeName=n1', allowWatchBookmarks: 'true', resourceVersion: '7' });
  assert.equal(new URL(`http://x/?${new URLSearchParams(seen[0]!.query)}`).search.startsWith('?watch=true'), true);
});

test('watch stream: a refused watch ends with its statusCode; a quiet one ends cleanly; a stopped one says nothing', async (t) => {
  const { kubeConfig } = await fakeApiServer(t, (req, res, s) => {
    if (s.query.resourceVersion === 'old') return json(res, 410, status(410, 'Expired', 'too old'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('\n'); // headers and a byte, then silence
  });
  const client = createRestClient(kubeConfig);
  const watchOnce = (query: Record<string, string>, inactivityMs: number) => new Promise<unknown>((resolve) => {
    void createWatcher(client, inactivityMs).watch('/api/v1/services', query, () => {}, resolve);
  });
  const refused = await watchOnce({ resourceVersion: 'old' }, 5_000);
  assert.equal((refused as { statusCode?: number }).statusCode, 410);
  assert.equal(statusOf(refused), 410);
  assert.equal(await watchOnce({}, 100), undefined);

  let doneCalled = false;
  const stop = await createWatcher(client, 5_000).watch('/api/v1/services', {}, () => {}, () => (doneCalled = true));
  stop.abort();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(doneCalled, false);
});
