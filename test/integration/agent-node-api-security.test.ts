// The node API (kubelet port 10250) as a client meets it: HTTPS with a serving certificate,
// client certificates from a test CA of its own, bearer tokens through a fake TokenReview and
// permissions through a fake SubjectAccessReview (a fake KubeApi), checked with the real curl
// and with node's https. Then the hostile inputs that used to stop the agent or leak files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { AccessReviewRequest, KubeApi, TokenReviewResult } from '../../src/agent/api/kube-api.ts';
import { defaultConfig } from '../../src/agent/config/agent-config.ts';
import { nodeApiAuth } from '../../src/agent/server/auth/node-api-auth.ts';
import type { RunningServer } from '../../src/agent/server/healthz-server.ts';
import { startNodeApiServer } from '../../src/agent/server/node-api-server.ts';
import { createCertificateAuthority, selfSignedServingCertificate, type CertificateAndKey } from '../../src/tls/certificates.ts';
import { fixedTimelines, twoContainersTimeline } from '../helpers/timeline-fixture.ts';

const execFileAsync = promisify(execFile);
const nodeName = 'node-a';
let dir: string;
let server: RunningServer;
let servingCaFile: string;
let servingCaPem: string;
const files: Record<string, { cert: string; key: string; pems: CertificateAndKey }> = {};
const reviews: AccessReviewRequest[] = [];

const pod: V1Pod = {
  metadata: { namespace: 'default', name: 'web', uid: 'u-1' },
  spec: { containers: [{ name: 'app', image: 'busybox' }], initContainers: [{ name: 'init', image: 'busybox' }] },
};

/** The fake API server: one good token (bob), a SAR that allows alice, bob and carol-with-pods, and fails for "flaky". */
const fakeApi = {
  async reviewToken(token: string): Promise<TokenReviewResult> {
    return token === 'good-token' ? { authenticated: true, user: { username: 'bob', groups: ['ops'] } } : { authenticated: false, error: 'invalid bearer token' };
  },
  async reviewAccess(r: AccessReviewRequest) {
    reviews.push(r);
    if (r.user === 'flaky') throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
    if (r.user === 'alice' || r.user === 'bob') return { allowed: true };
    if (r.user === 'carol' && r.subresource === 'pods') return { allowed: true };
    return { allowed: false, reason: `RBAC: ${r.user} may not ${r.verb} nodes/${r.subresource}` };
  },
} as unknown as KubeApi;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'node-api-sec-'));
  const clientCa = await createCertificateAuthority('test-client-ca');
  const otherCa = await createCertificateAuthority('some-other-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  const clients: Array<[string, CertificateAndKey]> = [
    ['alice', await clientCa.issue({ commonName: 'alice', organizations: ['devs'], usages: ['clientAuth'] })],
    ['carol', await clientCa.issue({ commonName: 'carol', usages: ['clientAuth'] })],
    ['mallory', await clientCa.issue({ commonName: 'mallory', usages: ['clientAuth'] })],
    ['flaky', await clientCa.issue({ commonName: 'flaky', usages: ['clientAuth'] })],
    ['eve', await otherCa.issue({ commonName: 'alice', organizations: ['system:masters'], usages: ['clientAuth'] })],
  ];
  for (const [name, pems] of clients) {
    files[name] = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), pems };
    writeFileSync(files[name].cert, pems.certPem);
    writeFileSync(files[name].key, pems.keyPem);
  }
  const serving = await selfSignedServingCertificate(nodeName, ['127.0.0.1', 'localhost']);
  servingCaPem = serving.caPem;
  servingCaFile = join(dir, 'serving-ca.crt');
  writeFileSync(servingCaFile, serving.caPem);

  // Logs: the pod's own, and decoys around it that must never be served.
  const logs = join(dir, 'logs');
  mkdirSync(join(logs, 'default_web_u-1', 'app'), { recursive: true });
  writeFileSync(join(logs, 'default_web_u-1', 'app', '0.log'), '2026-01-01T00:00:00Z stdout F hello from app\n');
  mkdirSync(join(logs, 'default_web_u-1', 'sidecar'), { recursive: true });
  writeFileSync(join(logs, 'default_web_u-1', 'sidecar', '0.log'), '2026-01-01T00:00:00Z stdout F DECOY-not-a-container\n');
  mkdirSync(join(logs, 'default_other_u-2', 'app'), { recursive: true });
  writeFileSync(join(logs, 'default_other_u-2', 'app', '0.log'), '2026-01-01T00:00:00Z stdout F DECOY-other-pod\n');
  mkdirSync(join(dir, 'secret'), { recursive: true });
  writeFileSync(join(dir, 'secret', '0.log'), 'DECOY-outside-the-log-root\n');
  writeFileSync(join(dir, '0.log'), 'DECOY-outside-the-log-root\n');

  const config = structuredClone(defaultConfig);
  config.authentication.x509.clientCAFile = join(dir, 'client-ca.crt');
  const silent = pino({ level: 'silent' });
  const auth = nodeApiAuth(config, fakeApi, silent);
  server = await startNodeApiServer({
    port: 0, host: '127.0.0.1', nodeName,
    tls: { certPem: serving.certPem, keyPem: serving.keyPem, clientCaPem: auth.clientCaPem },
    authenticate: auth.authenticate, authorize: auth.authorize,
    pods: () => [pod], podLogsDir: logs, healthy: () => true, logger: silent,
    timelines: fixedTimelines(twoContainersTimeline()),
    streamingUrl: async () => { throw new Error('no runtime in this test'); },
  });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer { status: number; body: string }

/** curl as an operator would run it: verifying the node's certificate, with a client certificate or token. */
async function curl(path: string, opts: { as?: string; token?: string; extra?: string[] } = {}): Promise<Answer> {
  const args = ['-sS', '--cacert', servingCaFile, '-w', '\n%{http_code}', ...(opts.extra ?? [])];
  if (opts.as) args.push('--cert', files[opts.as].cert, '--key', files[opts.as].key);
  if (opts.token) args.push('-H', `Authorization: Bearer ${opts.token}`);
  const { stdout } = await execFileAsync('curl', [...args, `https://127.0.0.1:${server.port}${path}`]);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

/** node's https, verifying the node's certificate by name. */
function get(path: string, opts: { as?: string; token?: string; method?: string; body?: Buffer } = {}): Promise<Answer & { headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port: server.port, path, method: opts.method ?? 'GET', ca: servingCaPem, servername: 'localhost',
      ...(opts.as ? { cert: files[opts.as].pems.certPem, key: files[opts.as].pems.keyPem } : {}),
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      agent: false,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A request written by hand over TLS, as a hostile client would, as alice or as no one. */
function raw(requestLine: string, as?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1', port: server.port, ca: servingCaPem, servername: 'localhost',
      ...(as ? { cert: files[as].pems.certPem, key: files[as].pems.keyPem } : {}),
    }, () => socket.write(`${requestLine}\r\nHost: node-a\r\nConnection: close\r\n\r\n`));
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (out += d));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);

test('anonymous requests get 401 "Unauthorized" (curl and https)', async () => {
  assert.deepEqual(await curl('/pods'), { status: 401, body: 'Unauthorized' });
  const viaHttps = await get('/containerLogs/default/web/app');
  assert.equal(viaHttps.status, 401);
  assert.equal(viaHttps.body, 'Unauthorized');
  assert.match(String(viaHttps.headers['content-type']), /^text\/plain/);
});

test('a forged bearer token gets 401; a token the TokenReview accepts gets in', async () => {
  assert.deepEqual(await curl('/pods', { token: 'forged' }), { status: 401, body: 'Unauthorized' });
  assert.equal((await get('/pods', { token: 'forged' })).status, 401);
  const bob = await curl('/pods', { token: 'good-token' });
  assert.equal(bob.status, 200);
  assert.equal(JSON.parse(bob.body).kind, 'PodList');
  assert.ok(reviews.some((r) => r.user === 'bob' && r.groups.includes('ops') && r.groups.includes('system:authenticated')));
});

test('a client certificate signed by another CA is refused, even naming an allowed user', async () => {
  assert.deepEqual(await curl('/pods', { as: 'eve' }), { status: 401, body: 'Unauthorized' });
  assert.equal((await get('/pods', { as: 'eve' })).status, 401);
});

test('a valid client certificate whose SubjectAccessReview denies gets 403 with the kubelet\'s text', async () => {
  const denied = await curl('/containerLogs/default/web/app', { as: 'mallory' });
  assert.equal(denied.status, 403);
  assert.equal(denied.body, 'Forbidden (user=mallory, verb=get, resource=nodes, subresource(s)=[proxy]): RBAC: mallory may not get nodes/proxy');
  const pods = await get('/pods', { as: 'mallory' });
  assert.equal(pods.status, 403);
  assert.match(pods.body, /^Forbidden \(user=mallory, verb=get, resource=nodes, subresource\(s\)=\[pods proxy\]\)/);
  // The denial of nodes/proxy was cached: /pods asked only about nodes/pods.
  const mine = reviews.filter((r) => r.user === 'mallory');
  assert.deepEqual(mine.map((r) => [r.verb, r.resource, r.subresource, r.name, r.group, r.version]), [
    ['get', 'nodes', 'proxy', nodeName, '', 'v1'],
    ['get', 'nodes', 'pods', nodeName, '', 'v1'],
  ]);
});

test('allowed: pods and logs are served (nodes/pods alone opens /pods but not logs)', async () => {
  const pods = await curl('/pods', { as: 'alice' });
  assert.equal(pods.status, 200);
  assert.deepEqual(JSON.parse(pods.body).items.map((p: V1Pod) => p.metadata?.name), ['web']);
  assert.deepEqual(await curl('/containerLogs/default/web/app?tailLines=1', { as: 'alice' }), { status: 200, body: 'hello from app\n' });
  assert.equal((await get('/containerLogs/default/web/app', { as: 'alice' })).body, 'hello from app\n');
  assert.equal((await get('/pods', { as: 'carol' })).status, 200);
  assert.equal((await get('/containerLogs/default/web/app', { as: 'carol' })).status, 403);
});

test('pod timelines (/debug/pods...) are nodes/proxy: anonymous 401, denied 403, nodes/pods alone not enough', async () => {
  for (const path of ['/debug/pods', '/debug/pods/default/two-containers/timeline', '/debug/pods/default/two-containers/timeline?format=json']) {
    assert.deepEqual(await curl(path), { status: 401, body: 'Unauthorized' }, path);
    assert.equal((await get(path, { token: 'forged' })).status, 401, path);
    assert.equal((await get(path, { as: 'eve' })).status, 401, path);
    const denied = await get(path, { as: 'mallory' });
    assert.equal(denied.status, 403, path);
    assert.match(denied.body, /^Forbidden \(user=mallory, verb=get, resource=nodes, subresource\(s\)=\[proxy\]\)/, path);
    assert.doesNotMatch(denied.body, /RunPodSandbox|two-containers/, path);
    assert.equal((await get(path, { as: 'carol' })).status, 403, path);
  }
  assert.ok(reviews.some((r) => r.user === 'carol' && r.subresource === 'proxy' && r.verb === 'get'));
});

test('pod timelines, allowed: HTML page, trace-event JSON (query or Accept), index, 404 and 400', async () => {
  const page = await curl('/debug/pods/default/two-containers/timeline', { as: 'alice', extra: ['-H', 'Accept: text/html'] });
  assert.equal(page.status, 200);
  assert.match(page.body, /^<!doctype html>/);
  assert.match(page.body, /RunPodSandbox/);
  const headers = await get('/debug/pods/default/two-containers/timeline', { as: 'alice' });
  assert.match(String(headers.headers['content-type']), /^text\/html/);
  assert.match(String(headers.headers['content-security-policy']), /default-src 'none'/);
  const byQuery = JSON.parse((await get('/debug/pods/default/two-containers/timeline?format=json', { token: 'good-token' })).body);
  assert.equal(byQuery.traceEvents.filter((e: { ph: string }) => e.ph === 'X').length, twoContainersTimeline().spans.length);
  const byAccept = await curl('/debug/pods/default/two-containers/timeline', { token: 'good-token', extra: ['-H', 'Accept: application/json'] });
  assert.deepEqual(JSON.parse(byAccept.body), byQuery);
  const index = JSON.parse((await curl('/debug/pods?format=json', { as: 'alice' })).body);
  assert.deepEqual(index.pods.map((p: { name: string }) => p.name), ['two-containers']);
  assert.match((await curl('/debug/pods', { as: 'alice' })).body, /href="pods\/default\/two-containers\/timeline"/);
  const missing = await get('/debug/pods/default/web/timeline', { as: 'alice' });
  assert.equal(missing.status, 404);
  assert.match(missing.body, /no timeline for pod "default\/web" on node "node-a"/);
  assert.equal((await get('/debug/pods/Default/web/timeline', { as: 'alice' })).status, 400);
  assert.equal((await get('/debug/pods/default/web/timeline?format=xml', { as: 'alice' })).status, 400);
  assert.equal((await get('/debug/pods/default/two-containers/timeline', { as: 'alice', method: 'POST' })).status, 405);
});

test('an authorization webhook that cannot be reached is a 500, not a 200', async () => {
  const answer = await get('/pods', { as: 'flaky' });
  assert.equal(answer.status, 500);
  assert.match(answer.body, /^Authorization error \(user=flaky, verb=get, resource=nodes, subresource\(s\)=\[pods\]\)/);
});

test('bad input gets a clear 4xx: unknown pod or container 404, invalid names 400, wrong method 405, big body 413', async () => {
  const cases: Array<[string, number, RegExp]> = [
    ['/containerLogs/default/nope/app', 404, /pod "default\/nope" does not exist/],
    ['/containerLogs/default/web/sidecar', 404, /container "sidecar" not found/],
    ['/containerLogs/default/web/init', 404, /no logs for container "init"/],
    ['/containerLogs/Default/web/app', 400, /invalid namespace/],
    ['/containerLogs/default/web%20x/app', 400, /invalid pod name/],
    ['/containerLogs/default/web/app?tailLines=-1', 400, /tailLines/],
    ['/exec/default/web/app', 400, /Upgrade request required/],
    ['/nothing/here', 404, /404 page not found/],
  ];
  for (const [path, status, body] of cases) {
    const answer = await get(path, { as: 'alice' });
    assert.equal(answer.status, status, path);
    assert.match(answer.body, body, path);
  }
  const post = await get('/pods', { as: 'alice', method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET');
  const big = await get('/pods', { as: 'alice', method: 'POST', body: Buffer.alloc(1024 * 1024 + 1) });
  assert.equal(big.status, 413);
});

const hostile = [
  'GET /containerLogs/ns/pod/%E0%A4%A HTTP/1.1',
  'GET http://[::1 HTTP/1.1',
  'GET // HTTP/1.1',
  'GET //pods HTTP/1.1',
  'GET * HTTP/1.1',
  'GET /containerLogs/default/web/..%2F..%2Fdefault_other_u-2%2Fapp HTTP/1.1',
  'GET /containerLogs/default/web/%2E%2E HTTP/1.1',
  'GET /containerLogs/default/..%2F..%2Fsecret/app HTTP/1.1',
  'GET /containerLogs/default/web/../../../secret HTTP/1.1',
  'GET /pods/../containerLogs/default/web/app HTTP/1.1',
  'DELETE /pods HTTP/1.1',
];

test('every hostile request answers 4xx, never a decoy, and the server keeps answering', async () => {
  for (const line of hostile) {
    for (const as of [undefined, 'alice']) {
      const response = await raw(line, as);
      const status = statusOf(response);
      assert.ok(status >= 400 && status < 500, `${line} as ${as ?? 'nobody'}: ${response.split('\r\n')[0]}`);
      assert.doesNotMatch(response, /DECOY/, line);
    }
    assert.equal(statusOf(await raw('GET /healthz HTTP/1.1', 'alice')), 200, `still answering after ${line}`);
  }
});

test('curl --path-as-is with dot segments and encoded slashes never reaches a decoy', async () => {
  for (const path of ['/containerLogs/default/web/../../../../0.log', '/containerLogs/default/web/..%2F..%2F..%2Fsecret', '/containerLogs/default/other/app']) {
    const answer = await curl(path, { as: 'alice', extra: ['--path-as-is'] });
    assert.ok(answer.status >= 400 && answer.status < 500, `${path}: ${answer.status}`);
    assert.doesNotMatch(answer.body, /DECOY/);
  }
  assert.equal((await curl('/healthz', { as: 'alice' })).status, 200);
});
