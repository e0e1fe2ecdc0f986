// The container handlers (src/probe/) against real servers on loopback that this file starts:
// HTTP and HTTPS (a self-signed certificate, not verified, as the kubelet does), a TCP listener
// and grpc.health.v1 servers. Every text asserted is the one a kubelet would put in the event.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { httpGetTargetOf, runHttpGet, type HttpGetTarget } from '../../src/probe/http-get.ts';
import { runTcpSocket } from '../../src/probe/tcp-socket.ts';
import { runGrpcHealth, startGrpcHealthServer } from '../../src/probe/grpc-health.ts';
import { healthService, type HealthCheckResponse } from '../../src/probe/health-proto.ts';
import { selfSignedServingCertificate } from '../../src/tls/certificates.ts';
import { freeLoopbackPort } from '../../src/world/free-port.ts';

const LOOPBACK = '127.0.0.1';
const portOf = (server: HttpServer | HttpsServer | TcpServer) => (server.address() as AddressInfo).port;

async function listen<S extends HttpServer | HttpsServer | TcpServer>(server: S, host = LOOPBACK): Promise<S> {
  server.listen(0, host);
  await once(server, 'listening');
  return server;
}

async function close(server: HttpServer | HttpsServer | TcpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('httpGet', () => {
  let web: HttpServer;
  let other: HttpServer;
  let secure: HttpsServer;
  let port: number;
  /** The headers of every request web saw, by path. */
  const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  const target = (path: string, headers: HttpGetTarget['headers'] = []): HttpGetTarget => ({ scheme: 'HTTP', host: LOOPBACK, port, path, headers });

  before(async () => {
    web = await listen(createHttpServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seen.push({ path: url.pathname, headers: req.headers });
      const status = /^\/status\/(\d+)$/.exec(url.pathname);
      const loop = /^\/loop\/(\d+)$/.exec(url.pathname);
      if (status) res.writeHead(Number(status[1])).end(`answered ${status[1]}`);
      else if (url.pathname === '/headers') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers));
      else if (url.pathname === '/slow') return; // never answers: the probe's deadline must end it
      else if (url.pathname === '/big') res.writeHead(200).end('x'.repeat(20_000));
      else if (url.pathname === '/hangup') req.socket.destroy();
      else if (url.pathname === '/to-same') res.writeHead(302, { location: '/status/200' }).end('moving');
      else if (url.pathname === '/to-headers') res.writeHead(307, { location: '/headers' }).end();
      else if (url.pathname === '/to-other-port') res.writeHead(301, { location: `http://${LOOPBACK}:${portOf(other)}/elsewhere` }).end();
      else if (url.pathname === '/to-other-host') res.writeHead(302, { location: `http://localhost:${port}/status/200` }).end('gone to localhost');
      else if (url.pathname === '/no-location') res.writeHead(302).end('nowhere');
      else if (loop) res.writeHead(302, { location: `/loop/${Number(loop[1]) + 1}` }).end();
      else res.writeHead(404).end('no such page');
    }));
    port = portOf(web);
    other = await listen(createHttpServer((_req, res) => res.writeHead(200).end('the other port')));
    const cert = await selfSignedServingCertificate('probe-test', [LOOPBACK]);
    secure = await listen(createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => res.writeHead(200).end('secure')));
  });
  after(async () => {
    await Promise.all([close(web), close(other), close(secure)]);
  });

  test('200 passes with the body as output', async () => {
    assert.deepEqual(await runHttpGet(target('/status/200'), 1000), { result: 'success', output: 'answered 200', statusCode: 200 });
  });

  test('399 is a final 3xx: it passes with a warning, as any redirect the kubelet does not follow', async () => {
    assert.deepEqual(await runHttpGet(target('/status/399'), 1000), { result: 'warning', output: 'Probe terminated redirects, Response body: answered 399', statusCode: 399 });
  });

  test('404 and 500 fail with the status code', async () => {
    assert.deepEqual(await runHttpGet(target('/status/404'), 1000), { result: 'failure', output: 'HTTP probe failed with statuscode: 404', statusCode: 404 });
    assert.deepEqual(await runHttpGet(target('/status/500'), 1000), { result: 'failure', output: 'HTTP probe failed with statuscode: 500', statusCode: 500 });
  });

  test('a server slower than the timeout fails with Go\'s client timeout text', async () => {
    const started = performance.now();
    const outcome = await runHttpGet(target('/slow'), 200);
    assert.deepEqual(outcome, { result: 'failure', output: `Get "http://${LOOPBACK}:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    assert.ok(performance.now() - started < 2000, 'the deadline ended it');
  });

  test('a redirect on the same host is followed', async () => {
    assert.deepEqual(await runHttpGet(target('/to-same'), 1000), { result: 'success', output: 'answered 200', statusCode: 200 });
  });

  test('a redirect to the same host name on another port is followed', async () => {
    assert.deepEqual(await runHttpGet(target('/to-other-port'), 1000), { result: 'success', output: 'the other port', statusCode: 200 });
  });

  test('a redirect to another host is not followed: a warning with the redirect\'s body', async () => {
    const before = seen.length;
    assert.deepEqual(await runHttpGet(target('/to-other-host'), 1000), { result: 'warning', output: 'Probe terminated redirects, Response body: gone to localhost', statusCode: 302 });
    assert.deepEqual(seen.slice(before).map((r) => r.path), ['/to-other-host']);
  });

  test('a redirect without a Location is a final response', async () => {
    assert.deepEqual(await runHttpGet(target('/no-location'), 1000), { result: 'warning', output: 'Probe terminated redirects, Response body: nowhere', statusCode: 302 });
  });

  test('a redirect loop stops after 10 requests, with no status code', async () => {
    const before = seen.length;
    const outcome = await runHttpGet(target('/loop/1'), 2000);
    assert.deepEqual(outcome, { result: 'failure', output: `Get "http://${LOOPBACK}:${port}/loop/10": stopped after 10 redirects` });
    assert.equal(seen.slice(before).length, 10);
  });

  test('the kubelet\'s headers: Host:port, kube-probe User-Agent, Accept */*', async () => {
    const outcome = await runHttpGet(target('/headers'), 1000);
    const headers = JSON.parse(outcome.output) as IncomingHttpHeaders;
    assert.equal(headers.host, `${LOOPBACK}:${port}`);
    assert.equal(headers['user-agent'], 'kube-probe/1.32');
    assert.equal(headers.accept, '*/*');
    assert.equal(headers.connection, 'close');
  });

  test('given headers: Host sets the host, repeated names are all sent, the User-Agent is replaced', async () => {
    const outcome = await runHttpGet(target('/headers', [
      { name: 'Host', value: 'health.example' },
      { name: 'X-Probe', value: 'one' },
      { name: 'x-probe', value: 'two' },
      { name: 'User-Agent', value: 'custom/1' },
    ]), 1000);
    const headers = JSON.parse(outcome.output) as IncomingHttpHeaders;
    assert.equal(headers.host, 'health.example');
    assert.equal(headers['x-probe'], 'one, two');
    assert.equal(headers['user-agent'], 'custom/1');
    assert.equal(headers.accept, '*/*');
  });

  test('an empty Accept or User-Agent is left out; a hook names itself kube-lifecycle', async () => {
    const emptied = JSON.parse((await runHttpGet(target('/headers', [{ name: 'Accept', value: '' }, { name: 'User-Agent', value: '' }]), 1000)).output) as IncomingHttpHeaders;
    assert.equal(emptied.accept, undefined);
    assert.equal(emptied['user-agent'], undefined);
    const hook = JSON.parse((await runHttpGet(target('/headers'), 1000, { userAgent: 'kube-lifecycle/1.32' })).output) as IncomingHttpHeaders;
    assert.equal(hook['user-agent'], 'kube-lifecycle/1.32');
  });

  test('a custom Host survives a relative redirect', async () => {
    const outcome = await runHttpGet(target('/to-headers', [{ name: 'Host', value: 'health.example' }]), 1000);
    assert.equal(outcome.result, 'success');
    assert.equal((JSON.parse(outcome.output) as IncomingHttpHeaders).host, 'health.example');
  });

  test('the body is kept up to 10 KiB', async () => {
    const outcome = await runHttpGet(target('/big'), 1000);
    assert.equal(outcome.result, 'success');
    assert.equal(outcome.output, 'x'.repeat(10 * 1024));
  });

  test('a connection closed without an answer fails with EOF', async () => {
    assert.deepEqual(await runHttpGet(target('/hangup'), 1000), { result: 'failure', output: `Get "http://${LOOPBACK}:${port}/hangup": EOF` });
  });

  test('a closed port fails with Go\'s dial error', async () => {
    const closed = await freeLoopbackPort();
    const outcome = await runHttpGet({ scheme: 'HTTP', host: LOOPBACK, port: closed, path: '/healthz', headers: [] }, 1000);
    assert.deepEqual(outcome, { result: 'failure', output: `Get "http://${LOOPBACK}:${closed}/healthz": dial tcp ${LOOPBACK}:${closed}: connect: connection refused` });
  });

  test('HTTPS does not verify the certificate', async () => {
    const outcome = await runHttpGet(httpGetTargetOf({ port: portOf(secure), scheme: 'HTTPS', path: 'ok' }, { name: 'c', image: 'i' }, LOOPBACK), 1000);
    assert.deepEqual(outcome, { result: 'success', output: 'secure', statusCode: 200 });
  });

  test('HTTPS to a plain HTTP server says so, as Go does (the hook runner\'s cue to retry over HTTP)', async () => {
    const outcome = await runHttpGet({ ...target('/status/200'), scheme: 'HTTPS' }, 1000);
    assert.deepEqual(outcome, { result: 'failure', output: `Get "https://${LOOPBACK}:${port}/status/200": http: server gave HTTP response to HTTPS client` });
  });

  test('an IPv6 host is bracketed in the URL and the Host header', async (t) => {
    const v6 = await listen(createHttpServer((req, res) => res.writeHead(200).end(req.headers.host)), '::1').catch(() => undefined);
    if (!v6) return t.skip('no IPv6 loopback here');
    try {
      const outcome = await runHttpGet({ scheme: 'HTTP', host: '::1', port: portOf(v6), path: '/', headers: [] }, 1000);
      assert.deepEqual(outcome, { result: 'success', output: `[::1]:${portOf(v6)}`, statusCode: 200 });
    } finally {
      await close(v6);
    }
  });
});

describe('tcpSocket', () => {
  let listener: TcpServer;
  before(async () => {
    listener = await listen(createTcpServer((socket) => socket.end()));
  });
  after(() => close(listener));

  test('an open port passes, and the connection really was made', async () => {
    const accepted = once(listener, 'connection');
    assert.deepEqual(await runTcpSocket({ host: LOOPBACK, port: portOf(listener) }, 1000), { result: 'success', output: '' });
    await accepted;
  });

  test('a closed port fails with Go\'s dial error', async () => {
    const closed = await freeLoopbackPort();
    assert.deepEqual(await runTcpSocket({ host: LOOPBACK, port: closed }, 1000), { result: 'failure', output: `dial tcp ${LOOPBACK}:${closed}: connect: connection refused` });
  });
});

describe('grpc', () => {
  let health: Awaited<ReturnType<typeof startGrpcHealthServer>>;
  before(async () => {
    health = await startGrpcHealthServer({});
  });
  after(() => health.stop());

  test('SERVING passes', async () => {
    assert.deepEqual(await runGrpcHealth({ host: LOOPBACK, port: health.port }, 1000), { result: 'success', output: 'service healthy' });
  });

  test('NOT_SERVING fails with the status named, and SERVING passes again', async () => {
    health.setStatus('NOT_SERVING');
    try {
      assert.deepEqual(await runGrpcHealth({ host: LOOPBACK, port: health.port }, 1000), { result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    } finally {
      health.setStatus('SERVING');
    }
    assert.equal((await runGrpcHealth({ host: LOOPBACK, port: health.port, service: '' }, 1000)).result, 'success');
  });

  test('a service the server does not know fails with grpc-go\'s NotFound text', async () => {
    assert.deepEqual(await runGrpcHealth({ host: LOOPBACK, port: health.port, service: 'payments' }, 1000), {
      result: 'failure',
      output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service',
    });
  });

  test('no server: the connection times out', async () => {
    const closed = await freeLoopbackPort();
    assert.deepEqual(await runGrpcHealth({ host: LOOPBACK, port: closed }, 300), {
      result: 'failure',
      output: `timeout: failed to connect service "${LOOPBACK}:${closed}" within 300ms: context deadline exceeded`,
    });
  });

  test('a gRPC server without the health service fails saying so', async () => {
    const bare = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) => bare.bindAsync(`${LOOPBACK}:0`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    try {
      const outcome = await runGrpcHealth({ host: LOOPBACK, port }, 1000);
      assert.equal(outcome.result, 'failure');
      assert.match(outcome.output, /^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
    } finally {
      bare.forceShutdown();
    }
  });

  test('a Check that never answers times out as an rpc', async () => {
    const stuck = new grpc.Server();
    stuck.addService(healthService().service, { Check() { /* never answers */ }, Watch() { /* unused */ } });
    const port = await new Promise<number>((resolve, reject) => stuck.bindAsync(`${LOOPBACK}:0`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    try {
      assert.deepEqual(await runGrpcHealth({ host: LOOPBACK, port }, 300), { result: 'failure', output: 'timeout: health rpc did not complete within 300ms' });
    } finally {
      stuck.forceShutdown();
    }
  });

  test('Watch hears the current status, then each change', async () => {
    const Health = healthService();
    const client = new Health(`${LOOPBACK}:${health.port}`, grpc.credentials.createInsecure());
    const call = (client as unknown as { Watch(req: { service: string }): grpc.ClientReadableStream<HealthCheckResponse> }).Watch({ service: '' });
    call.on('error', () => { /* cancelled at the end */ });
    try {
      const [first] = (await once(call, 'data')) as [HealthCheckResponse];
      assert.equal(first.status, 'SERVING');
      const next = once(call, 'data');
      health.setStatus('NOT_SERVING');
      const [second] = (await next) as [HealthCheckResponse];
      assert.equal(second.status, 'NOT_SERVING');
    } finally {
      health.setStatus('SERVING');
      call.cancel();
      client.close();
    }
  });
});
