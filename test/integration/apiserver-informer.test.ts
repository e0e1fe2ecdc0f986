// client-node informers against the dev API server: a node's view (fieldSelector
// spec.nodeName=X) through creates, binds, updates and deletes, and a relist after 410 Gone.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import * as clientNode from '@kubernetes/client-node';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';

type ClientNode = typeof import('@kubernetes/client-node');
type V1Pod = import('@kubernetes/client-node').V1Pod;


async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pod(name: string, nodeName?: string): V1Pod {
  return { metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] } };
}

describe('client-node informers on the dev API server', { timeout: 60_000 }, () => {
  test('an informer with fieldSelector spec.nodeName sees exactly the pods bound to that node', async () => {
    const k8s: ClientNode = clientNode;
    const server = await startApiServer({ port: 0, binder: false, logger: pino({ level: 'silent' }) });
    let informer: ReturnType<typeof makeNodeInformer> | undefined;
    try {
      informer = makeNodeInformer(k8s, server, 'node-x');
      const api = server.kubeConfig().makeApiClient(k8s.CoreV1Api);
      const seen: string[] = [];
      informer.on('add', (p) => seen.push(`add ${p.metadata!.name}`));
      informer.on('update', (p) => seen.push(`update ${p.metadata!.name}`));
      informer.on('delete', (p) => seen.push(`delete ${p.metadata!.name}`));

      await api.createNamespacedPod({ namespace: 'default', body: pod('on-x', 'node-x') });
      await api.createNamespacedPod({ namespace: 'default', body: pod('on-y', 'node-y') });
      await api.createNamespacedPod({ namespace: 'default', body: pod('unbound') });
      await informer.start();
      assert.deepEqual(informer.list().map((p) => p.metadata!.name), ['on-x']);

      // Binding moves a pod into the selection: the informer sees it added.
      await api.createNamespacedPodBinding({ namespace: 'default', name: 'unbound', body: { metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'node-x' } } });
      await waitFor('unbound to arrive', () => seen.includes('add unbound'));

      await api.patchNamespacedPod({ namespace: 'default', name: 'on-x', body: { metadata: { labels: { touched: 'yes' } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await waitFor('the label update', () => seen.includes('update on-x'));
      assert.equal(informer.get('on-x', 'default')?.metadata?.labels?.touched, 'yes');

      await api.createNamespacedPod({ namespace: 'default', body: pod('late-y', 'node-y') });
      // Graceful deletion first marks the pod, then the node's grace-0 delete removes it.
      await api.deleteNamespacedPod({ namespace: 'default', name: 'on-x' });
      await waitFor('the deletion mark', () => informer!.get('on-x', 'default')?.metadata?.deletionTimestamp !== undefined);
      await api.deleteNamespacedPod({ namespace: 'default', name: 'on-x', gracePeriodSeconds: 0 });
      await waitFor('on-x to go', () => seen.includes('delete on-x'));

      assert.deepEqual(informer.list().map((p) => p.metadata!.name), ['unbound']);
      assert.ok(!seen.some((e) => e.endsWith('on-y') || e.endsWith('late-y')), `events about other nodes' pods: ${seen.join(', ')}`);
      assert.deepEqual(seen.filter((e) => e.startsWith('add')), ['add on-x', 'add unbound']);
    } finally {
      await informer?.stop();
      await server.stop();
    }
  });

  test('a watch resumed from an expired resourceVersion gets 410 and the informer relists', async () => {
    const k8s: ClientNode = clientNode;
    const server = await startApiServer({ port: 0, binder: false, historySize: 3, logger: pino({ level: 'silent' }) });
    let lists = 0;
    let informer: ReturnType<typeof makeNodeInformer> | undefined;
    try {
      informer = makeNodeInformer(k8s, server, 'node-x', () => lists++);
      const api = server.kubeConfig().makeApiClient(k8s.CoreV1Api);
      await api.createNamespacedPod({ namespace: 'default', body: pod('first', 'node-x') });
      await informer.start();
      assert.equal(lists, 1);
      const expiredRv = Number(informer.latestResourceVersion());

      await informer.stop();
      // More changes than the server keeps: the informer's resourceVersion falls out of history.
      for (let i = 0; i < 5; i++) await api.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `filler-${i}` } } });
      await api.createNamespacedPod({ namespace: 'default', body: pod('second', 'node-x') });
      await api.deleteNamespacedPod({ namespace: 'default', name: 'first', gracePeriodSeconds: 0 });

      const events: Array<{ type: string; object: any }> = [];
      const watch = new k8s.Watch(server.kubeConfig());
      const ended = new Promise<void>((resolve) => {
        void watch.watch('/api/v1/pods', { resourceVersion: String(expiredRv) }, (type, object) => events.push({ type, object }), () => resolve());
      });
      await ended;
      assert.equal(events.length, 1);
      assert.equal(events[0].type, 'ERROR');
      assert.equal(events[0].object.code, 410);
      assert.equal(events[0].object.reason, 'Expired');

      await informer.start();
      await waitFor('the relist', () => lists >= 2 && informer!.list().some((p) => p.metadata!.name === 'second'));
      assert.deepEqual(informer.list().map((p) => p.metadata!.name), ['second']);
    } finally {
      await informer?.stop();
      await server.stop();
    }
  });
});

function makeNodeInformer(k8s: ClientNode, server: RunningApiServer, node: string, onList = () => {}) {
  const kc = server.kubeConfig();
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const fieldSelector = `spec.nodeName=${node}`;
  const list = () => {
    onList();
    return api.listPodForAllNamespaces({ fieldSelector });
  };
  return new k8s.ListWatch<V1Pod>('/api/v1/pods', new k8s.Watch(kc), list, false, undefined, fieldSelector);
}
