// An idle keep-alive connection stays open as kube-apiserver keeps it (90 s), not Node's 5 s: a
// client that reuses its socket just as the server drops it sees ECONNRESET (the fuzzer's
// creates did, under load).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { once } from 'node:events';
import { pino } from 'pino';
import { startApiServer } from '../../src/apiserver/index.ts';

test('an idle connection is still open 6 s after its last answer, and serves the next request', { timeout: 30_000 }, async (t) => {
  const server = await startApiServer({ port: 0, logger: pino({ level: 'silent' }) });
  t.after(() => server.stop());
  const { hostname, port } = new URL(server.url);
  const socket = connect({ host: hostname, port: Number(port), ca: server.caCertPem, servername: 'localhost' });
  t.after(() => socket.destroy());
  await once(socket, 'secureConnect');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (received += d));
  const answered = async (n: number) => {
    while ((received.match(/HTTP\/1\.1 200/g) ?? []).length < n) await once(socket, 'data');
  };
  const get = () => socket.write(`GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\nConnection: keep-alive\r\n\r\n`);
  get();
  await answered(1);
  // Either the server closes the idle socket, or 6 s pass with it open.
  const closed = await Promise.race([once(socket, 'close').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 6_000))]);
  assert.equal(closed, false, 'the server closed an idle keep-alive connection within 6 s');
  get();
  await answered(2);
});
