// The API pod source lists, watches from the list's resourceVersion, and on 410 Gone lists
// again and emits the difference, so no update is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod, V1PodList } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { KubeApi, WatchEventType } from '../../src/agent/api/kube-api.ts';
import { apiPodSource } from '../../src/agent/sources/api-pod-source.ts';
import type { PodUpdate } from '../../src/agent/sources/pod-update.ts';

const pod = (name: string, rv: string): V1Pod => ({ metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: rv }, spec: { nodeName: 'n', containers: [] } });

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a 410 during the watch relists and emits what changed meanwhile', async () => {
  const lists: V1PodList[] = [
    { items: [pod('a', '5'), pod('b', '6')], metadata: { resourceVersion: '10' } },
    { items: [pod('b', '6'), pod('c', '30')], metadata: { resourceVersion: '31' } },
  ];
  const watches: Array<{ selector: string; rv: string; onEvent: (t: WatchEventType, o: any) => void; done: (e?: unknown) => void }> = [];
  const api = {
    listPods: async () => lists.shift() ?? { items: [], metadata: { resourceVersion: '99' } },
    watchPods: async (selector: string, rv: string, onEvent: (t: WatchEventType, o: any) => void, done: (e?: unknown) => void) => {
      watches.push({ selector, rv, onEvent, done });
      return () => {};
    },
  } as unknown as KubeApi;

  const updates: PodUpdate[] = [];
  const sub = apiPodSource(api, 'n', pino({ level: 'silent' }), { retryDelayMs: 10 }).subscribe((u) => updates.push(u));
  try {
    await waitFor(() => watches.length === 1, 'the first watch');
    assert.equal(watches[0].selector, 'spec.nodeName=n');
    assert.equal(watches[0].rv, '10');
    assert.deepEqual(updates.map((u) => `${u.op} ${u.pod.metadata?.name}`), ['ADD a', 'ADD b']);

    watches[0].onEvent('MODIFIED', pod('b', '12'));
    watches[0].onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    watches[0].done();
    await waitFor(() => watches.length === 2, 'the watch after the relist');
    assert.equal(watches[1].rv, '31');
    assert.deepEqual(updates.slice(2).map((u) => `${u.op} ${u.pod.metadata?.name}`).sort(), ['ADD c', 'DELETE a', 'UPDATE b', 'UPDATE b']);
  } finally {
    sub.unsubscribe();
  }
});

test('malformed objects in list and watch events are skipped and logged; the source keeps going', async () => {
  const watches: Array<{ onEvent: (t: WatchEventType, o: any) => void }> = [];
  const api = {
    listPods: async () => ({ items: [{ spec: {} }, pod('a', '1')], metadata: { resourceVersion: '2' } }),
    watchPods: async (_s: string, _rv: string, onEvent: (t: WatchEventType, o: any) => void) => {
      watches.push({ onEvent });
      return () => {};
    },
  } as unknown as KubeApi;
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
  const updates: PodUpdate[] = [];
  const sub = apiPodSource(api, 'n', logger, { retryDelayMs: 10 }).subscribe((u) => updates.push(u));
  try {
    await waitFor(() => watches.length === 1, 'the watch');
    for (const bad of [null, 'text', {}, { metadata: null }, { metadata: { name: 'no-uid' } }, { metadata: { uid: 'u', name: 7 } }]) {
      watches[0].onEvent('ADDED', bad);
      watches[0].onEvent('DELETED', bad);
    }
    watches[0].onEvent('ADDED', pod('b', '3'));
    assert.deepEqual(updates.map((u) => `${u.op} ${u.pod.metadata?.name}`), ['ADD a', 'ADD b']);
    assert.ok(warnings.some((w) => /malformed pod/.test(w)), 'the skipped objects were logged');
    assert.equal(watches.length, 1, 'the watch was not restarted');
  } finally {
    sub.unsubscribe();
  }
});
