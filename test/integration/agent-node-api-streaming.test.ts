// The node API's streaming endpoints (/exec, /attach, /portForward) as a client meets them: an
// HTTP upgrade over TLS, admitted like every node API request (client certificates from a test CA,
// a fake SubjectAccessReview), then relayed byte for byte to the runtime's streaming server (here a
// fake one on loopback that answers 101 and echoes). Refusals never reach the runtime.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { AccessReviewRequest, KubeApi } from '../../src/agent/api/kube-api.ts';
import { defaultConfig } from '../../src/agent/config/agent-config.ts';
import { nodeApiAuth } from '../../src/agent/server/auth/node-api-auth.ts';
import type { RunningServer } from '../../src/agent/server/healthz-server.ts';
import { startNodeApiServer } from '../../src/agent/server/node-api-server.ts';
import type { StreamRequest } from '../../src/cri/runtime-manager/pod-runtime.ts';
import { createCertificateAuthority, selfSignedServingCertificate, type CertificateAndKey } from '../../src/tls/certificates.ts';
import { writeFileSync } from 'node:fs';

const nodeName = 'node-s';
let dir: string;
let server: RunningServer;
let streamServer: Server;
let streamPort = 0;
let servingCaPem: string;
const ids: Record<string, CertificateAndKey> = {};
/** What the runtime was asked for, and the request heads its streaming server received. */
const sessions: StreamRequest[] = [];
const heads: string[] = [];
let runtimeRefuses: string | undefined;

const pod: V1Pod = {
  metadata: { namespace: 'default', name: 'web', uid: 'u-1' },
  spec: { containers: [{ name: 'app', image: 'busybox' }, { name: 'done', image: 'busybox' }] },
  status: {
    containerStatuses: [
      { name: 'app', image: 'busybox', imageID: '', ready: true, restartCount: 0, containerID: 'containerd://abc123', state: { running: {} } },
      { name: 'done', image: 'busybox', imageID: '', ready: false, restartCount: 0, containerID: 'containerd://def456', state: { terminated: { exitCode: 0 } } },
    ],
  },
};

const fakeApi = {
  async reviewToken() { return { authenticated: false, error: 'no tokens here' }; },
  async reviewAccess(r: AccessReviewRequest) {
    return r.user === 'alice' ? { allowed: true } : { allowed: false, reason: `RBAC: ${r.user} may not ${r.verb} nodes/${r.subresource}` };
  },
} as unknown as KubeApi;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'node-api-stream-'));
  const clientCa = await createCertificateAuthority('stream-client-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  ids.alice = await clientCa.issue({ commonName: 'alice', usages: ['clientAuth'] });
  ids.mallory = await clientCa.issue({ commonName: 'mallory', usages: ['clientAuth'] });
  const serving = await selfSignedServingCertificate(nodeName, ['127.0.0.1']);
  servingCaPem = serving.caPem;

  // The runtime's streaming server: records the request head, switches protocols, echoes.
  streamServer = createServer((socket: Socket) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      heads.push(buffered.slice(0, end));
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
      const rest = buffered.slice(end + 4);
      if (rest) socket.write(`echo:${rest}`);
      socket.on('data', (more: Buffer) => socket.write(`echo:${more.toString()}`));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => streamServer.listen(0, '127.0.0.1', resolve));
  streamPort = (streamServer.address() as { port: number }).port;

  const config = structuredClone(defaultConfig);
  config.authentication.x509.clientCAFile = join(dir, 'client-ca.crt');
  const silent = pino({ level: 'silent' });
  const auth = nodeApiAuth(config, fakeApi, silent);
  server = await startNodeApiServer({
    port: 0, host: '127.0.0.1', nodeName,
    tls: { certPem: serving.certPem, keyPem: serving.keyPem, clientCaPem: auth.clientCaPem },
    authenticate: auth.authenticate, authorize: auth.authorize,
    pods: () => [pod], podLogsDir: join(dir, 'logs'), healthy: () => true, logger: silent,
    async streamingUrl(req) {
      sessions.push(req);
      if (runtimeRefuses) throw new Error(runtimeRefuses);
      return `http://127.0.0.1:${streamPort}/exec/token-xyz`;
    },
  });
});

after(async () => {
  await server?.close();
  await new Promise((resolve) => streamServer.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** An upgrade request as kubectl's SPDY dialer sends it; resolves with what came back, after `send` was written once upgraded. */
function upgrade(path: string, as: 'alice' | 'mallory' | undefined, opts: { send?: string; method?: string; upgrade?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const id = as ? ids[as] : undefined;
    const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ca: servingCaPem, servername: nodeName, ...(id ? { cert: id.certPem, key: id.keyPem } : {}) }, () => {
      const upgradeHeaders = opts.upgrade === false ? 'Connection: close\r\n' : 'Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n';
      socket.write(`${opts.method ?? 'POST'} ${path} HTTP/1.1\r\nHost: ${nodeName}\r\nAuthorization: Bearer not-for-the-runtime\r\n${upgradeHeaders}Content-Length: 0\r\n\r\n`);
    });
    let got = '';
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString();
      if (got.startsWith('HTTP/1.1 101') && opts.send && !got.includes('echo:')) {
        if (got.includes('\r\n\r\n')) socket.write(opts.send);
      }
      if (got.includes('echo:') || (!got.startsWith('HTTP/1.1 101') && got.includes('\r\n\r\n') && /Content-Length: (\d+)/i.test(got) && got.split('\r\n\r\n')[1]!.length >= Number(/Content-Length: (\d+)/i.exec(got)![1]))) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

const statusLine = (response: string) => response.split('\r\n')[0];
const body = (response: string) => response.split('\r\n\r\n')[1]?.trim();

test('exec, attach, portForward: nobody gets 401, a caller the SubjectAccessReview denies gets 403, and neither reaches the runtime', async () => {
  const before = sessions.length;
  for (const path of ['/exec/default/web/app?command=sh&input=1&output=1', '/attach/default/web/app?output=1', '/portForward/default/web?port=80']) {
    assert.equal(statusLine(await upgrade(path, undefined)), 'HTTP/1.1 401 Unauthorized', path);
    const denied = await upgrade(path, 'mallory');
    assert.equal(statusLine(denied), 'HTTP/1.1 403 Forbidden', path);
    assert.match(body(denied)!, /^Forbidden \(user=mallory, verb=create, resource=nodes, subresource\(s\)=\[proxy\]\)/, path);
  }
  assert.equal(sessions.length, before, 'the runtime was never asked');
});

test('exec: an allowed caller is relayed to the runtime\'s streaming server, without its credentials', async () => {
  const got = await upgrade('/exec/default/web/app?command=sh&command=-c&command=echo%20hi&input=1&output=1&error=1', 'alice', { send: 'ping' });
  assert.equal(statusLine(got), 'HTTP/1.1 101 Switching Protocols');
  assert.ok(got.endsWith('echo:ping'), 'bytes flow both ways after the upgrade');
  assert.deepEqual(sessions.at(-1), { kind: 'exec', containerId: 'abc123', cmd: ['sh', '-c', 'echo hi'], tty: false, stdin: true, stdout: true, stderr: true });
  const head = heads.at(-1)!;
  assert.match(head, /^POST \/exec\/token-xyz HTTP\/1\.1\r\n/);
  assert.match(head, /\r\nUpgrade: SPDY\/3\.1/);
  assert.match(head, /\r\nX-Stream-Protocol-Version: v4\.channel\.k8s\.io/);
  assert.doesNotMatch(head, /Authorization/i, 'the caller\'s credentials stay with the node');
});

test('attach and portForward name their sessions; a TTY never has a separate stderr', async () => {
  assert.equal(statusLine(await upgrade('/attach/default/web/u-1/app?input=1&output=1&error=1&tty=1', 'alice', { send: 'x' })), 'HTTP/1.1 101 Switching Protocols');
  assert.deepEqual(sessions.at(-1), { kind: 'attach', containerId: 'abc123', tty: true, stdin: true, stdout: true, stderr: false });
  assert.equal(statusLine(await upgrade('/portForward/default/web?port=8080', 'alice', { send: 'y' })), 'HTTP/1.1 101 Switching Protocols');
  assert.deepEqual(sessions.at(-1), { kind: 'portForward', podUid: 'u-1', ports: [8080] });
});

test('bad sessions get a clear 4xx; a runtime refusal is a 500 with its message; a plain request is told to upgrade', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['/exec/default/web/nope?command=sh&output=1', 'HTTP/1.1 404 Not Found', /container "nope" not found in pod "default\/web"/],
    ['/exec/default/web/done?command=sh&output=1', 'HTTP/1.1 400 Bad Request', /container "done" in pod "default\/web" is not running/],
    ['/exec/default/web/app?output=1', 'HTTP/1.1 400 Bad Request', /at least one command/],
    ['/exec/default/web/app?command=sh', 'HTTP/1.1 400 Bad Request', /at least 1 of stdin, stdout, stderr/],
    ['/exec/default/other/app?command=sh&output=1', 'HTTP/1.1 404 Not Found', /pod "default\/other" does not exist on this node/],
    ['/exec/default/web/u-2/app?command=sh&output=1', 'HTTP/1.1 404 Not Found', /does not exist/],
    ['/portForward/default/web?port=70000', 'HTTP/1.1 400 Bad Request', /invalid port "70000"/],
    ['/exec/Bad_NS/web/app?command=sh&output=1', 'HTTP/1.1 400 Bad Request', /invalid namespace/],
    ['/healthz', 'HTTP/1.1 404 Not Found', /404 page not found/],
  ];
  for (const [path, line, text] of cases) {
    const got = await upgrade(path, 'alice');
    assert.equal(statusLine(got), line, path);
    assert.match(body(got)!, text, path);
  }
  runtimeRefuses = 'container abc123 is not running';
  try {
    const got = await upgrade('/exec/default/web/app?command=sh&output=1', 'alice');
    assert.equal(statusLine(got), 'HTTP/1.1 500 Internal Server Error');
    assert.equal(body(got), 'container abc123 is not running');
  } finally {
    runtimeRefuses = undefined;
  }
  const plain = await upgrade('/exec/default/web/app?command=sh&output=1', 'alice', { upgrade: false });
  assert.equal(statusLine(plain), 'HTTP/1.1 400 Bad Request');
  assert.match(body(plain)!, /Upgrade request required/);
});
