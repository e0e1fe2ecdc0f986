// `kubectl logs` through the dev API server's node proxy to the pod's node (a stand-in kubelet).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';

let server: RunningApiServer;
let kubelet: Server;
let dir: string;
const kubeletRequests: string[] = [];

function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/kubectl', args, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

async function post(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201, await res.text());
}

describe('kubectl logs through the node proxy', { timeout: 60_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apiserver-logs-'));
    kubelet = createServer((req, res) => {
      kubeletRequests.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://kubelet');
      if (url.pathname !== '/containerLogs/default/logger/app') return res.writeHead(404).end('no such container\n');
      const lines = ['starting', 'serving', 'done'];
      const tail = url.searchParams.get('tailLines');
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`${(tail ? lines.slice(-Number(tail)) : lines).join('\n')}\n`);
    });
    await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
    server = await startApiServer({ port: 0, binder: false, kubeconfigOut: join(dir, 'kubeconfig'), logger: pino({ level: 'silent' }) });
    const port = (kubelet.address() as AddressInfo).port;
    await post('/api/v1/nodes', {
      metadata: { name: 'node-logs' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
    });
    await post('/api/v1/namespaces/default/pods', {
      metadata: { name: 'logger' }, spec: { nodeName: 'node-logs', containers: [{ name: 'app', image: 'busybox' }, { name: 'side', image: 'busybox' }] },
    });
    await post('/api/v1/namespaces/default/pods', { metadata: { name: 'unbound' }, spec: { containers: [{ name: 'app', image: 'busybox' }] } });
  });

  after(async () => {
    await server?.stop();
    await new Promise((resolve) => kubelet?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test('logs of a container come from its node, with tail lines passed on', async () => {
    const all = await kubectl('logs', 'logger', '-c', 'app');
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, 'starting\nserving\ndone\n');
    const tail = await kubectl('logs', 'logger', '-c', 'app', '--tail=1');
    assert.equal(tail.stdout, 'done\n');
    assert.ok(kubeletRequests.includes('/containerLogs/default/logger/app?tailLines=1'), kubeletRequests.join(', '));
  });

  test("the node's refusal and an unscheduled pod are errors kubectl shows", async () => {
    const side = await kubectl('logs', 'logger', '-c', 'side');
    assert.equal(side.code, 1);
    assert.match(side.stderr, /no such container/);
    const unbound = await kubectl('logs', 'unbound');
    assert.equal(unbound.code, 1);
    assert.match(unbound.stderr, /does not have a host assigned/);
    const bad = await kubectl('logs', 'logger', '-c', 'nope');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /container nope is not valid for pod logger/);
  });
});
