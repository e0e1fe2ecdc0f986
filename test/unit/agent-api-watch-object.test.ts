// KubeApi.watchObject against the in-process dev API server, as a node (whose Node authorizer
// allows only the single-name list and watch), through a TCP relay the test can cut: a change
// is reported while the watch runs, after the watch is cut and comes back, and after its
// version expired (410) and a relist finds the object changed, then gone.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createKubeApi } from '../../src/agent/api/kube-api.ts';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { pollFor } from '../../src/world/wait.ts';
import { apiJson } from '../helpers/api-client.ts';

/** A TCP relay to the API server that can drop every connection and refuse new ones. */
class Relay {
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  readonly server: Server;

  constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (this.refusing) return client.destroy();
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port)));
  }

  /** Drops every open connection and refuses new ones until resume(). */
  cut(): void {
    this.refusing = true;
    for (const s of this.sockets) s.destroy();
  }

  resume(): void {
    this.refusing = false;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const historySize = 20;
let server: RunningApiServer;
let relay: Relay;
let nodeConfig: KubeConfig;

const configMapPath = '/api/v1/namespaces/default/configmaps';

before(async () => {
  server = await startApiServer({ port: 0, binder: false, historySize, logger: pino({ level: 'silent' }) });
  const target = new URL(server.url);
  relay = new Relay({ host: target.hostname, port: Number(target.port) });
  const relayPort = await relay.listen();
  nodeConfig = new KubeConfig();
  nodeConfig.loadFromString((await server.nodeKubeconfig('n1')).replace(server.url, `https://127.0.0.1:${relayPort}`));

  // What makes the ConfigMap the node's to watch: a pod bound to it that mounts it.
  assert.equal((await apiJson(server, 'POST', configMapPath, { metadata: { name: 'settings' }, data: { v: '0' } })).status, 201);
  const pod = await apiJson(server, 'POST', '/api/v1/namespaces/default/pods', {
    metadata: { name: 'web' },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'cfg', configMap: { name: 'settings' } }] },
  });
  assert.equal(pod.status, 201, JSON.stringify(pod.json));
});

after(async () => {
  await relay?.close();
  await server?.stop();
});

test('watchObject reports changes while watching, after a cut, and after a 410 relist', async () => {
  const api = createKubeApi(nodeConfig, { rewatchDelayMs: 20 });
  let changes = 0;
  const stop = api.watchObject('ConfigMap', 'default', 'settings', () => changes++);
  let value = 0;
  const update = async () => {
    const r = await apiJson(server, 'PUT', `${configMapPath}/settings`, { metadata: { name: 'settings' }, data: { v: String(++value) } });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  };
  const changeAfter = async (what: string, act: () => Promise<void>) => {
    const seen = changes;
    await act();
    await pollFor(() => changes > seen, { what, timeoutMs: 10_000, intervalMs: 10 });
  };
  try {
    // Until the first list and watch are in place a change may go unseen (the caller reads the
    // object itself first); so update until one is reported, then the watch is running.
    await pollFor(async () => {
      await update();
      return changes > 0;
    }, { what: 'the watch to start reporting', timeoutMs: 10_000, intervalMs: 50 });

    await changeAfter('a change while watching', update);

    // Cut: the change happens while the node cannot reach the server, and arrives when it can again.
    relay.cut();
    let seen = changes;
    await update();
    assert.equal(changes, seen, 'nothing can be seen through a cut relay');
    relay.resume();
    await pollFor(() => changes > seen, { what: 'the change made while cut', timeoutMs: 10_000, intervalMs: 10 });

    // Cut for longer than the server keeps history: resuming gets 410, and the relist finds the change.
    relay.cut();
    seen = changes;
    await update();
    for (let i = 0; i < historySize + 5; i++) {
      assert.equal((await apiJson(server, 'POST', configMapPath, { metadata: { name: `noise-${i}` } })).status, 201);
    }
    relay.resume();
    await pollFor(() => changes > seen, { what: 'the change found by the relist after 410', timeoutMs: 10_000, intervalMs: 10 });

    await changeAfter('the deletion', async () => {
      assert.equal((await apiJson(server, 'DELETE', `${configMapPath}/settings`)).status, 200);
    });
    await changeAfter('the object coming back', async () => {
      assert.equal((await apiJson(server, 'POST', configMapPath, { metadata: { name: 'settings' }, data: { v: 'back' } })).status, 201);
    });
  } finally {
    stop();
  }
});
