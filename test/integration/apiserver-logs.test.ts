// `kubectl logs` and nodes/proxy through the dev API server to the pod's node: a stand-in
// kubelet on HTTPS that accepts only client certificates from the cluster CA, and answers
// like the kubelet, refusals included.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { selfSignedServingCertificate } from '../../src/tls/certificates.ts';
import { apiFetch, apiJson } from '../helpers/api-client.ts';

let server: RunningApiServer;
let kubelet: Server;
let dir: string;
const kubeletRequests: Array<{ url: string; method: string; user: string; authorization?: string; body: string }> = [];

function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/kubectl', args, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

async function post(path: string, body: unknown): Promise<any> {
  const { status, json } = await apiJson(server, 'POST', path, body);
  assert.equal(status, 201, JSON.stringify(json));
  return json;
}

describe('kubectl logs and nodes/proxy through the node proxy', { timeout: 60_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apiserver-logs-'));
    server = await startApiServer({ port: 0, binder: false, kubeconfigOut: join(dir, 'kubeconfig'), logger: pino({ level: 'silent' }) });
    const serving = await selfSignedServingCertificate('node-logs', ['127.0.0.1']);
    kubelet = createServer({ cert: serving.certPem, key: serving.keyPem, ca: server.caCertPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const user = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
        kubeletRequests.push({ url: req.url ?? '', method: req.method ?? '', user, authorization: req.headers.authorization, body });
        const url = new URL(req.url ?? '/', 'https://kubelet');
        if (url.pathname === '/pods') return res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"kind":"PodList","apiVersion":"v1","items":[]}');
        if (url.pathname === '/echo') return res.writeHead(202, { 'Content-Type': 'text/plain', 'X-Kubelet': 'yes' }).end(`${req.method} ${url.search} ${body}`);
        if (url.pathname === '/containerLogs/default/logger/locked') return res.writeHead(403, { 'Content-Type': 'text/plain' }).end('Forbidden (user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource=proxy)');
        if (url.pathname === '/containerLogs/default/logger/anon') return res.writeHead(401, { 'Content-Type': 'text/plain' }).end('Unauthorized');
        if (url.pathname !== '/containerLogs/default/logger/app') return res.writeHead(404).end('no such container\n');
        const lines = ['starting', 'serving', 'done'];
        const tail = url.searchParams.get('tailLines');
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`${(tail ? lines.slice(-Number(tail)) : lines).join('\n')}\n`);
      });
    });
    await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
    const port = (kubelet.address() as AddressInfo).port;
    await post('/api/v1/nodes', {
      metadata: { name: 'node-logs' },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
    });
    const containers = ['app', 'side', 'locked', 'anon'].map((name) => ({ name, image: 'busybox' }));
    await post('/api/v1/namespaces/default/pods', { metadata: { name: 'logger' }, spec: { nodeName: 'node-logs', containers } });
    await post('/api/v1/namespaces/default/pods', { metadata: { name: 'unbound' }, spec: { containers: [{ name: 'app', image: 'busybox' }] } });
  });

  after(async () => {
    await server?.stop();
    await new Promise((resolve) => kubelet?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test('logs of a container come from its node, asked with the server\'s own client certificate', async () => {
    const all = await kubectl('logs', 'logger', '-c', 'app');
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, 'starting\nserving\ndone\n');
    const tail = await kubectl('logs', 'logger', '-c', 'app', '--tail=1');
    assert.equal(tail.stdout, 'done\n');
    const asked = kubeletRequests.find((r) => r.url === '/containerLogs/default/logger/app?tailLines=1');
    assert.ok(asked, kubeletRequests.map((r) => r.url).join(', '));
    assert.equal(asked.user, 'kube-apiserver-kubelet-client');
  });

  test("the node's refusals come back as kube-apiserver reports them, and an unscheduled pod is an error", async () => {
    const side = await kubectl('logs', 'logger', '-c', 'side');
    assert.equal(side.code, 1);
    assert.match(side.stderr, /Error from server \(NotFound\): the server could not find the requested resource \( pods\/log logger\)/);
    const locked = await kubectl('logs', 'logger', '-c', 'locked');
    assert.match(locked.stderr, /Error from server \(Forbidden\): Forbidden \(user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource=proxy\) \( pods\/log logger\)/);
    const anon = await kubectl('logs', 'logger', '-c', 'anon');
    assert.match(anon.stderr, /the server has asked for the client to provide credentials \( pods\/log logger\)/);
    const unbound = await kubectl('logs', 'unbound');
    assert.equal(unbound.code, 1);
    assert.match(unbound.stderr, /does not have a host assigned/);
    const bad = await kubectl('logs', 'logger', '-c', 'nope');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /container nope is not valid for pod logger/);
  });

  test('kubectl get --raw reaches the kubelet through nodes/proxy', async () => {
    const r = await kubectl('get', '--raw', '/api/v1/nodes/node-logs/proxy/pods');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).kind, 'PodList');
    assert.equal(kubeletRequests.at(-1)?.user, 'kube-apiserver-kubelet-client');
  });

  test('nodes/proxy passes method, query, body and the answer through, without the caller\'s credentials', async () => {
    const sa = await post('/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'prober' } });
    const { json: tr } = await apiJson(server, 'POST', `/api/v1/namespaces/default/serviceaccounts/${sa.metadata.name}/token`, { spec: {} });
    const token = tr.status.token as string;
    const path = '/api/v1/nodes/node-logs/proxy/echo?x=1&y=two';
    const denied = await apiJson(server, 'POST', path, { hello: 1 }, { token });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.message,
      'nodes "node-logs" is forbidden: User "system:serviceaccount:default:prober" cannot create resource "nodes/proxy" in API group "" at the cluster scope');
    assert.deepEqual(denied.json.details, { name: 'node-logs', kind: 'nodes' });

    await post('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'prober-kubelet-api' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'prober', namespace: 'default' }],
    });
    const res = await apiFetch(server, path, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'payload' }, { token });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('x-kubelet'), 'yes');
    assert.equal(await res.text(), 'POST ?x=1&y=two payload');
    const seen = kubeletRequests.at(-1)!;
    assert.equal(seen.url, '/echo?x=1&y=two');
    assert.equal(seen.authorization, undefined);
  });

  test('a node that cannot be reached is 503 ServiceUnavailable', async () => {
    await post('/api/v1/nodes', { metadata: { name: 'gone' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } } });
    const { status, json } = await apiJson(server, 'GET', '/api/v1/nodes/gone/proxy/pods');
    assert.equal(status, 503);
    assert.equal(json.reason, 'ServiceUnavailable');
    assert.match(json.message, /^error trying to reach service: /);
  });
});
