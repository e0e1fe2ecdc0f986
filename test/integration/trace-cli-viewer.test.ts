// A pod's timeline as `mini-kubelet trace` and dev's browser viewer reach it: through the dev
// API server's nodes/proxy to a node API that holds hand-made timelines (the real node API
// server, client certificates from the cluster CA). The CLI prints the terminal waterfall and
// fails with exit code 1 and a clear message for a pod that is missing, unscheduled or
// without a timeline; the viewer serves only the debug pages, on loopback, over plain HTTP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { defaultConfig } from '../../src/agent/config/agent-config.ts';
import { startTimelineViewer, debugPathOf, type RunningTimelineViewer } from '../../src/agent/dev/timeline-viewer.ts';
import { nodeApiAuth } from '../../src/agent/server/auth/node-api-auth.ts';
import type { RunningServer } from '../../src/agent/server/healthz-server.ts';
import { startNodeApiServer } from '../../src/agent/server/node-api-server.ts';
import { kubeconfigPath, parsePodArg, traceOutput } from '../../src/trace/command.ts';
import { renderTimelineText } from '../../src/trace/views/timeline-text.ts';
import { selfSignedServingCertificate } from '../../src/tls/certificates.ts';
import { apiJson } from '../helpers/api-client.ts';
import { fixedTimelines, twoContainersTimeline } from '../helpers/timeline-fixture.ts';

const bin = join(import.meta.dirname, '../../bin/mini-kubelet.mjs');
const silent = pino({ level: 'silent' });
let dir: string;
let api: RunningApiServer;
let node: RunningServer;
let viewer: RunningTimelineViewer;
let kubeconfig: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trace-cli-'));
  kubeconfig = join(dir, 'kubeconfig');
  api = await startApiServer({ port: 0, binder: false, kubeconfigOut: kubeconfig, logger: silent });
  writeFileSync(join(dir, 'client-ca.crt'), api.caCertPem);
  const config = structuredClone(defaultConfig);
  config.authentication.x509.clientCAFile = join(dir, 'client-ca.crt');
  config.authorization.mode = 'AlwaysAllow';
  const auth = nodeApiAuth(config, undefined, silent);
  const serving = await selfSignedServingCertificate('node-a', ['127.0.0.1']);
  node = await startNodeApiServer({
    port: 0, host: '127.0.0.1', nodeName: 'node-a',
    tls: { certPem: serving.certPem, keyPem: serving.keyPem, clientCaPem: auth.clientCaPem },
    authenticate: auth.authenticate, authorize: auth.authorize,
    pods: () => [], podLogsDir: dir, healthy: () => true, logger: silent,
    streamingUrl: async () => { throw new Error('no runtime'); },
    timelines: fixedTimelines(twoContainersTimeline()),
  });
  const post = async (path: string, body: unknown) => assert.equal((await apiJson(api, 'POST', path, body)).status, 201);
  await post('/api/v1/nodes', { metadata: { name: 'node-a' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: node.port } } } });
  const containers = [{ name: 'app', image: 'busybox' }];
  await post('/api/v1/namespaces/default/pods', { metadata: { name: 'two-containers' }, spec: { nodeName: 'node-a', containers } });
  await post('/api/v1/namespaces/default/pods', { metadata: { name: 'web' }, spec: { nodeName: 'node-a', containers } });
  await post('/api/v1/namespaces/default/pods', { metadata: { name: 'unbound' }, spec: { containers } });
  viewer = await startTimelineViewer({ kubeConfig: api.kubeConfig(), nodeName: 'node-a', port: 0, logger: silent });
});

after(async () => {
  await viewer?.stop();
  await node?.close();
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'trace', ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, env: { ...process.env, KUBECONFIG: kubeconfig } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('trace prints the waterfall the node holds, through the API server\'s nodes/proxy', async () => {
  const out = await traceOutput(kubeconfig, 'default', 'two-containers', { width: 100 });
  assert.equal(out, renderTimelineText(twoContainersTimeline(), { width: 100 }));
  const json = JSON.parse(await traceOutput(kubeconfig, 'default', 'two-containers', { json: true }));
  assert.equal(json.traceEvents.filter((e: { ph: string }) => e.ph === 'X').length, twoContainersTimeline().spans.length);
});

test('trace explains a missing, unscheduled or untraced pod', async () => {
  await assert.rejects(traceOutput(kubeconfig, 'default', 'nope'), { name: 'TraceError', message: 'pod "default/nope" not found' });
  await assert.rejects(traceOutput(kubeconfig, 'default', 'unbound'), /pod "default\/unbound" is not scheduled to a node yet/);
  await assert.rejects(traceOutput(kubeconfig, 'default', 'web'), /no timeline for pod "default\/web" on node "node-a": the agent has recorded no span of it/);
  await assert.rejects(traceOutput(join(dir, 'absent'), 'default', 'web'), /cannot read kubeconfig/);
});

test('the command: $KUBECONFIG, exit 0 with the waterfall, exit 1 with a message', async () => {
  const ok = await cli('default/two-containers', '--width', '100', '--no-attributes');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, renderTimelineText(twoContainersTimeline(), { width: 100, attributes: false }));
  const missing = await cli('default/nope');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'error: pod "default/nope" not found\n');
  const bad = await cli('a/b/c');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /is not <namespace>\/<pod> or <pod>/);
});

test('pod arguments and kubeconfig lookup', () => {
  assert.deepEqual(parsePodArg('kube-system/dns'), { namespace: 'kube-system', name: 'dns' });
  assert.deepEqual(parsePodArg('web', 'prod'), { namespace: 'prod', name: 'web' });
  assert.deepEqual(parsePodArg('web'), { namespace: 'default', name: 'web' });
  assert.match(String(parsePodArg('a/b', 'c')), /--namespace says c/);
  assert.equal(kubeconfigPath('/x', { KUBECONFIG: '/y' }), '/x');
  assert.equal(kubeconfigPath(undefined, { KUBECONFIG: ':/y:/z' }), '/y');
});

function viewerGet(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: viewer.port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the dev viewer: the node\'s pages over plain HTTP on loopback, nothing else forwarded', async () => {
  assert.equal(viewer.timelineUrl('default', 'two-containers'), `http://127.0.0.1:${viewer.port}/debug/pods/default/two-containers/timeline`);
  const page = await viewerGet('/debug/pods/default/two-containers/timeline', { accept: 'text/html' });
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  assert.match(page.body, /RunPodSandbox/);
  const json = await viewerGet('/debug/pods/default/two-containers/timeline?format=json');
  assert.equal(JSON.parse(json.body).otherData.uid, 'uid-2c');
  const byAccept = await viewerGet('/debug/pods/default/two-containers/timeline', { accept: 'application/json' });
  assert.equal(JSON.parse(byAccept.body).otherData.uid, 'uid-2c');
  const index = await viewerGet('/debug/pods', { host: `localhost:${viewer.port}` });
  assert.match(index.body, /href="pods\/default\/two-containers\/timeline"/);
  const missing = await viewerGet('/debug/pods/default/web/timeline');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /no timeline for pod "default\/web"/);
  assert.equal((await viewerGet('/')).status, 302);
  for (const path of ['/pods', '/configz', '/containerLogs/default/web/app', '/debug/pods/default/../timeline', '/debug/pods/default/web/timeline/x', '/api/v1/nodes']) {
    assert.equal((await viewerGet(path)).status, 404, path);
  }
  assert.equal((await viewerGet('/debug/pods', {}, 'POST')).status, 405);
  assert.equal((await viewerGet('/debug/pods', { host: 'evil.example:80' })).status, 421);
  assert.equal(debugPathOf('/debug/pods/Default/web/timeline'), undefined);
  assert.equal(debugPathOf('/debug/pods/default/web.v1/timeline'), '/debug/pods/default/web.v1/timeline');
});
