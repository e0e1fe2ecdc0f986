// The agent's Service cache: list, watch from the list's resourceVersion, relist on 410; pods
// from the API server wait for the first list (and fail as the kubelet's do when it does not
// come), static pods do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod, V1Service, V1ServiceList } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { KubeApi, WatchEventType } from '../../src/agent/api/kube-api.ts';
import { SERVICES_NOT_SYNCED, startServiceCache } from '../../src/agent/sources/service-cache.ts';

const silent = pino({ level: 'silent' });
const svc = (namespace: string, name: string, rv: string): V1Service => ({ metadata: { namespace, name, resourceVersion: rv }, spec: { clusterIP: '10.96.0.9', ports: [{ port: 80 }] } });
const apiPod: V1Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: { containers: [] } };
const staticPod: V1Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u', annotations: { 'kubernetes.io/config.source': 'file' } }, spec: { containers: [] } };
const names = (services: V1Service[]) => services.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`).sort();

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Watch = { rv: string; onEvent: (t: WatchEventType, o: any) => void; done: (e?: unknown) => void; stopped: boolean };

function fakeApi(lists: Array<V1ServiceList | Error | Promise<V1ServiceList>>) {
  const watches: Watch[] = [];
  let listCalls = 0;
  const api = {
    listServices: async () => {
      listCalls++;
      const next = lists.shift() ?? { items: [], metadata: { resourceVersion: '99' } };
      if (next instanceof Error) throw next;
      return next;
    },
    watchServices: async (rv: string, onEvent: Watch['onEvent'], done: Watch['done']) => {
      const w: Watch = { rv, onEvent, done, stopped: false };
      watches.push(w);
      return () => { w.stopped = true; };
    },
  } as unknown as KubeApi;
  return { api, watches, listCalls: () => listCalls };
}

test('lists, follows the watch, and relists on 410 replacing what it held', async () => {
  const { api, watches } = fakeApi([
    { items: [svc('default', 'kubernetes', '1'), svc('shop', 'a', '2')], metadata: { resourceVersion: '10' } },
    { items: [svc('default', 'kubernetes', '1'), svc('shop', 'c', '30')], metadata: { resourceVersion: '31' } },
  ]);
  const cache = startServiceCache(api, silent, { retryDelayMs: 10 });
  try {
    await waitFor(() => watches.length === 1, 'the first watch');
    assert.equal(watches[0]!.rv, '10');
    assert.ok(cache.hasSynced());
    assert.deepEqual(names(cache.list()), ['default/kubernetes', 'shop/a']);

    watches[0]!.onEvent('ADDED', svc('shop', 'b', '11'));
    watches[0]!.onEvent('MODIFIED', { ...svc('shop', 'a', '12'), spec: { clusterIP: '10.96.0.77', ports: [{ port: 81 }] } });
    watches[0]!.onEvent('ADDED', { kind: 'nothing like a service' });
    assert.deepEqual(names(cache.list()), ['default/kubernetes', 'shop/a', 'shop/b']);
    assert.equal(cache.list().find((s) => s.metadata?.name === 'a')?.spec?.clusterIP, '10.96.0.77');
    watches[0]!.onEvent('DELETED', svc('shop', 'b', '13'));
    assert.deepEqual(names(await cache.servicesFor(apiPod)), ['default/kubernetes', 'shop/a']);

    watches[0]!.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    watches[0]!.done();
    await waitFor(() => watches.length === 2, 'the watch after the relist');
    assert.equal(watches[1]!.rv, '31');
    assert.deepEqual(names(cache.list()), ['default/kubernetes', 'shop/c'], 'what the relist found, nothing older');
  } finally {
    cache.stop();
  }
  assert.ok(watches[1]!.stopped, 'stop ends the watch');
});

test('a quietly closed watch resumes from the last resourceVersion seen (bookmarks count)', async () => {
  const { api, watches, listCalls } = fakeApi([{ items: [], metadata: { resourceVersion: '5' } }]);
  const cache = startServiceCache(api, silent, { retryDelayMs: 10 });
  try {
    await waitFor(() => watches.length === 1, 'the watch');
    watches[0]!.onEvent('BOOKMARK', { metadata: { resourceVersion: '8' } });
    watches[0]!.done();
    await waitFor(() => watches.length === 2, 'the rewatch');
    assert.equal(watches[1]!.rv, '8');
    assert.equal(listCalls(), 1, 'no relist');
  } finally {
    cache.stop();
  }
});

test('before the first list: an API pod waits for it; a failed list retries', async () => {
  let answer!: (l: V1ServiceList) => void;
  const { api, listCalls } = fakeApi([new Error('connection refused'), new Promise<V1ServiceList>((r) => (answer = r))]);
  const cache = startServiceCache(api, silent, { retryDelayMs: 10, syncWaitMs: 5000 });
  try {
    const pending = cache.servicesFor(apiPod);
    await waitFor(() => listCalls() === 2, 'the retried list');
    assert.equal(cache.hasSynced(), false);
    answer({ items: [svc('default', 'kubernetes', '1')], metadata: { resourceVersion: '2' } });
    assert.deepEqual(names(await pending), ['default/kubernetes']);
  } finally {
    cache.stop();
  }
});

test('no first list in time: an API pod fails with the kubelet\'s message; a static pod takes what is there', async () => {
  const { api } = fakeApi([new Promise<V1ServiceList>(() => {})]);
  const cache = startServiceCache(api, silent, { retryDelayMs: 10, syncWaitMs: 50 });
  try {
    await assert.rejects(cache.servicesFor(apiPod), { message: SERVICES_NOT_SYNCED });
    assert.deepEqual(await cache.servicesFor(staticPod), []);
  } finally {
    cache.stop();
  }
});
