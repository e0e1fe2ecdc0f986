// The container handlers' pure parts (src/probe/): ports by number or name, the targets the
// kubelet builds from httpGet, tcpSocket and grpc actions, exec outcomes, and Go's texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1HTTPGetAction } from '@kubernetes/client-node';
import { resolveContainerPort } from '../../src/probe/container-port.ts';
import { httpGetTargetOf, type HttpGetTarget } from '../../src/probe/http-get.ts';
import { tcpSocketTargetOf } from '../../src/probe/tcp-socket.ts';
import { grpcTargetOf } from '../../src/probe/grpc-health.ts';
import { runExecProbe, type ExecInContainer } from '../../src/probe/exec.ts';
import { goDuration, joinHostPort } from '../../src/probe/go-text.ts';
import type { ProbeOutcome } from '../../src/probe/probe-outcome.ts';

const web: V1Container = {
  name: 'web',
  image: 'nginx',
  ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }, { containerPort: 7070 }, { name: 'broken', containerPort: 0 }],
};

const ports: Array<[number | string | undefined, number]> = [[80, 80], [65535, 65535], ['8081', 8081], ['http', 8080], ['metrics', 9090]];
for (const [port, want] of ports) {
  test(`container port ${JSON.stringify(port)} is ${want}`, () => assert.equal(resolveContainerPort(port, web), want));
}

const badPorts: Array<[number | string | undefined, string]> = [
  ['admin', 'port "admin" not found'],
  ['', 'port "" not found'],
  [0, 'invalid port number: 0'],
  [65536, 'invalid port number: 65536'],
  [-1, 'invalid port number: -1'],
  ['70000', 'invalid port number: 70000'],
  [undefined, 'invalid port number: 0'],
  ['broken', 'invalid port number: 0'],
];
for (const [port, message] of badPorts) {
  test(`container port ${JSON.stringify(port)} is refused: ${message}`, () => {
    assert.throws(() => resolveContainerPort(port, web), (err: unknown) => err instanceof Error && err.message === message);
  });
}

test('a port name needs the container to have ports at all', () => {
  assert.throws(() => resolveContainerPort('http', { name: 'bare', image: 'busybox' }), /port "http" not found/);
});

const httpRows: Array<{ name: string; action: V1HTTPGetAction; want: HttpGetTarget }> = [
  {
    name: 'defaults: HTTP, the pod IP, /',
    action: { port: 8080 },
    want: { scheme: 'HTTP', host: '10.1.2.3', port: 8080, path: '/', headers: [] },
  },
  {
    name: 'a named port, a path without its slash, lowercase https',
    action: { port: 'http', path: 'healthz', scheme: 'https' },
    want: { scheme: 'HTTPS', host: '10.1.2.3', port: 8080, path: '/healthz', headers: [] },
  },
  {
    name: 'host, query and headers as given (Host stays a header)',
    action: { port: 'metrics', host: 'fd00::5', path: '/ready?full=1', httpHeaders: [{ name: 'Host', value: 'example.com' }, { name: 'X-Probe', value: 'a' }, { name: 'X-Probe', value: 'b' }] },
    want: { scheme: 'HTTP', host: 'fd00::5', port: 9090, path: '/ready?full=1', headers: [{ name: 'Host', value: 'example.com' }, { name: 'X-Probe', value: 'a' }, { name: 'X-Probe', value: 'b' }] },
  },
  {
    name: 'an empty host or path means the defaults',
    action: { port: 80, host: '', path: '' },
    want: { scheme: 'HTTP', host: '10.1.2.3', port: 80, path: '/', headers: [] },
  },
];
for (const row of httpRows) {
  test(`httpGet target: ${row.name}`, () => assert.deepEqual(httpGetTargetOf(row.action, web, '10.1.2.3'), row.want));
}

test('httpGet target: an unknown port name or scheme is refused with the kubelet\'s text', () => {
  assert.throws(() => httpGetTargetOf({ port: 'admin' }, web, '10.1.2.3'), /^Error: port "admin" not found$/);
  assert.throws(() => httpGetTargetOf({ port: 80, scheme: 'FTP' }, web, '10.1.2.3'), /^Error: unsupported protocol scheme "ftp"$/);
});

const tcpRows: Array<[Parameters<typeof tcpSocketTargetOf>[0], { host: string; port: number }]> = [
  [{ port: 'http' }, { host: '10.1.2.3', port: 8080 }],
  [{ port: 5432, host: 'db.local' }, { host: 'db.local', port: 5432 }],
  [{ port: '6379', host: '' }, { host: '10.1.2.3', port: 6379 }],
];
for (const [action, want] of tcpRows) {
  test(`tcpSocket target of ${JSON.stringify(action)}`, () => assert.deepEqual(tcpSocketTargetOf(action, web, '10.1.2.3'), want));
}

test('tcpSocket target: an unknown port name is refused', () => {
  assert.throws(() => tcpSocketTargetOf({ port: 'admin' }, web, '10.1.2.3'), /port "admin" not found/);
});

const grpcRows: Array<[Parameters<typeof grpcTargetOf>[0], ReturnType<typeof grpcTargetOf>]> = [
  [{ port: 9000 }, { host: '10.1.2.3', port: 9000 }],
  [{ port: 9000, service: 'liveness' }, { host: '10.1.2.3', port: 9000, service: 'liveness' }],
  [{ port: 9000, service: '' }, { host: '10.1.2.3', port: 9000, service: '' }],
];
for (const [action, want] of grpcRows) {
  test(`grpc target of ${JSON.stringify(action)}: always the pod IP`, () => assert.deepEqual(grpcTargetOf(action, '10.1.2.3'), want));
}

const timedOut = Object.assign(new Error('rpc error: code = DeadlineExceeded'), { timedOut: true });
const execRows: Array<{ name: string; exec: ExecInContainer; want: ProbeOutcome }> = [
  { name: 'exit 0 passes with its output', exec: async () => ({ exitCode: 0, stdout: 'ok\n', stderr: '' }), want: { result: 'success', output: 'ok\n' } },
  { name: 'exit 1 fails with stdout then stderr', exec: async () => ({ exitCode: 1, stdout: 'out\n', stderr: 'err\n' }), want: { result: 'failure', output: 'out\nerr\n' } },
  { name: 'a timeout fails naming the command', exec: async () => { throw timedOut; }, want: { result: 'failure', output: 'command "cat /tmp/healthy" timed out' } },
  { name: 'a command that cannot run fails with the reason', exec: async () => { throw new Error('container not running'); }, want: { result: 'failure', output: 'container not running' } },
];
for (const row of execRows) {
  test(`exec probe: ${row.name}`, async () => assert.deepEqual(await runExecProbe(row.exec, 'c1', ['cat', '/tmp/healthy'], 1), row.want));
}

test('exec probe: the runtime gets the container, the command and the timeout', async () => {
  const calls: unknown[] = [];
  await runExecProbe(async (...args) => { calls.push(args); return { exitCode: 0, stdout: '', stderr: '' }; }, 'abc', ['sh', '-c', 'true'], 3);
  assert.deepEqual(calls, [['abc', ['sh', '-c', 'true'], 3]]);
});

test('exec probe: at most 10 KiB of output is kept', async () => {
  const outcome = await runExecProbe(async () => ({ exitCode: 2, stdout: 'a'.repeat(8000), stderr: 'b'.repeat(8000) }), 'c1', ['x'], 1);
  assert.equal(outcome.result, 'failure');
  assert.equal(outcome.output.length, 10 * 1024);
  assert.equal(outcome.output, 'a'.repeat(8000) + 'b'.repeat(10 * 1024 - 8000));
});

const durations: Array<[number, string]> = [[0, '0s'], [300, '300ms'], [1000, '1s'], [1500, '1.5s'], [60_000, '1m0s'], [90_000, '1m30s'], [3_600_000, '1h0m0s']];
for (const [ms, want] of durations) {
  test(`Go duration of ${ms} ms is ${want}`, () => assert.equal(goDuration(ms), want));
}

test('host:port brackets IPv6 hosts only', () => {
  assert.deepEqual([joinHostPort('10.1.2.3', 80), joinHostPort('fd00::1', 80), joinHostPort('web.local', 443)], ['10.1.2.3:80', '[fd00::1]:80', 'web.local:443']);
});
