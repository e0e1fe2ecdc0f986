// Watch streams as kube-apiserver sends them: selector transitions, initial state, bookmarks,
// timeoutSeconds, 410 for an expired version, and Table rows for kubectl.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { apiFetch } from '../helpers/api-client.ts';

let server: RunningApiServer;

interface Stream { events: any[]; ended: Promise<void>; abort(): void }

async function openWatch(path: string, headers: Record<string, string> = {}): Promise<Stream> {
  const controller = new AbortController();
  const res = await apiFetch(server, path, { headers, signal: controller.signal });
  assert.equal(res.status, 200);
  const events: any[] = [];
  const ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  })();
  return { events, ended, abort: () => controller.abort() };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function send(method: string, path: string, body: unknown, contentType = 'application/json') {
  const res = await apiFetch(server, path, { method, headers: { 'Content-Type': contentType }, body: JSON.stringify(body) });
  const json = await res.json() as any;
  assert.ok(res.ok, JSON.stringify(json));
  return json;
}

const labelPatch = (labels: Record<string, string | null>) => send('PATCH', '/api/v1/namespaces/default/configmaps/cm', { metadata: { labels } }, 'application/merge-patch+json');

describe('watch', { timeout: 60_000 }, () => {
  before(async () => {
    server = await startApiServer({ port: 0, historySize: 50, bookmarkIntervalMs: 100, logger: pino({ level: 'silent' }) });
  });
  after(() => server?.stop());

  test('objects entering and leaving a label selection arrive as ADDED and DELETED', async () => {
    const list = await (await apiFetch(server, '/api/v1/namespaces/default/configmaps')).json() as any;
    const w = await openWatch(`/api/v1/namespaces/default/configmaps?watch=true&labelSelector=app%3Dweb&resourceVersion=${list.metadata.resourceVersion}`);
    try {
      await send('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'cm' } });
      await labelPatch({ app: 'web' });
      await labelPatch({ extra: 'x' });
      await labelPatch({ app: null });
      await send('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'other', labels: { app: 'web' } } });
      await waitFor('four events', () => w.events.length >= 4);
      assert.deepEqual(w.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED cm', 'MODIFIED cm', 'DELETED cm', 'ADDED other']);
      const rvs = w.events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.deepEqual(rvs, [...rvs].sort((a, b) => a - b));
    } finally {
      w.abort();
    }
  });

  test('a watch on one object\'s URL sees only that object', async () => {
    const list = await (await apiFetch(server, '/api/v1/namespaces/default/configmaps')).json() as any;
    const w = await openWatch(`/api/v1/namespaces/default/configmaps/single?watch=true&resourceVersion=${list.metadata.resourceVersion}`);
    try {
      await send('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'not-single' } });
      await send('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'single' } });
      await waitFor('the ADDED event', () => w.events.length >= 1);
      assert.deepEqual(w.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED single']);
    } finally {
      w.abort();
    }
  });

  test('without a resourceVersion the current objects come first as ADDED', async () => {
    const w = await openWatch('/api/v1/namespaces?watch=true');
    try {
      await waitFor('the initial namespaces', () => w.events.length >= 4);
      assert.deepEqual(w.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED default', 'ADDED kube-node-lease', 'ADDED kube-public', 'ADDED kube-system']);
    } finally {
      w.abort();
    }
  });

  test('bookmarks carry the current resourceVersion when allowed, and timeoutSeconds ends the stream', async () => {
    const w = await openWatch('/api/v1/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=1');
    await w.ended;
    const bookmarks = w.events.filter((e) => e.type === 'BOOKMARK');
    assert.ok(bookmarks.length >= 1, 'no bookmark within a second');
    assert.equal(bookmarks[0].object.kind, 'Pod');
    assert.ok(Number(bookmarks[0].object.metadata.resourceVersion) >= 1);
  });

  test('a watch from a version older than the kept history gets an ERROR event with 410 Expired', async () => {
    for (let i = 0; i < 60; i++) await send('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `filler-${i}` } });
    const w = await openWatch('/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2');
    await w.ended;
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0].type, 'ERROR');
    assert.deepEqual({ ...w.events[0].object, message: undefined },
      { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: undefined, reason: 'Expired', code: 410 });
    assert.match(w.events[0].object.message, /too old resource version: 2/);
  });

  test('a Table watch sends rows, with column definitions in the first event only', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const w = await openWatch('/api/v1/namespaces?watch=true', { Accept: accept });
    try {
      await waitFor('the initial namespaces', () => w.events.length >= 4);
      assert.equal(w.events[0].object.kind, 'Table');
      assert.deepEqual(w.events[0].object.columnDefinitions.map((c: any) => c.name), ['Name', 'Status', 'Age']);
      assert.deepEqual(w.events[0].object.rows[0].cells.slice(0, 2), ['default', 'Active']);
      assert.deepEqual(w.events[1].object.columnDefinitions, []);
      assert.equal(w.events[1].object.rows[0].object.kind, 'PartialObjectMetadata');
    } finally {
      w.abort();
    }
  });
});
