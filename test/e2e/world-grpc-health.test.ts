// The world's grpc-health image (images/grpc-health/grpc-health.c) runs as a container on the
// pod network and answers the agent's grpc probe (runGrpcHealth, on grpc-js): SERVING, then
// NOT_SERVING while its toggle file exists, over fresh connections one after another and in
// parallel, and several streams on one connection; it exits 0 on SIGTERM. The agent's e2e
// tests of gRPC liveness and readiness probes run against it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CriClient } from '../../src/cri/client.ts';
import type { PodSandboxConfig } from '../../src/cri/types.ts';
import { runGrpcHealth } from '../../src/probe/grpc-health.ts';
import { healthService, type HealthCheckResponse } from '../../src/probe/health-proto.ts';
import { waitFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { startWorldFor } from '../helpers/world.ts';

const port = 50051;
const healthy = { result: 'success', output: 'service healthy' };

type HealthClient = grpc.Client & {
  Check(req: { service: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: HealthCheckResponse) => void): grpc.ClientUnaryCall;
};

/** A plain Check on a client the caller keeps, for several calls on one connection. */
function check(client: HealthClient): Promise<string> {
  return new Promise((resolve, reject) => {
    client.Check({ service: '' }, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res!.status)));
  });
}

test('the grpc-health image serves grpc.health.v1 Check on the pod network', { timeout: 180_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const world = await startWorldFor(t);
  const cri = CriClient.connect(world.containerdEndpoint, { timeoutMs: 60_000 });
  t.after(() => cri.close());
  // Host side of the container's /toggle: the test creates the toggle file here.
  const toggleDir = mkdtempSync(join(tmpdir(), 'grpc-health-toggle-'));
  t.after(() => rmSync(toggleDir, { recursive: true, force: true }));
  let ip = '';
  /** The agent's probe: its own connection, one Check, closed. */
  const probe = () => runGrpcHealth({ host: ip, port }, 5000);

  await cri.pullImage({ image: { image: world.images.grpcHealth } });
  const uid = `uid-grpc-health-${process.pid}`;
  const config: PodSandboxConfig = {
    metadata: { name: 'grpc-health', uid, namespace: 'default', attempt: 0 },
    hostname: 'grpc-health',
    logDirectory: join(world.podLogDir, `default_grpc-health_${uid}`),
    linux: { securityContext: { namespaceOptions: { network: 'POD' } } },
  };
  const { podSandboxId } = await cri.runPodSandbox({ config, runtimeHandler: 'runc' });
  const { containerId } = await cri.createContainer({
    podSandboxId,
    sandboxConfig: config,
    config: {
      metadata: { name: 'server', attempt: 0 },
      image: { image: world.images.grpcHealth },
      args: [String(port), '/toggle/not-serving'],
      mounts: [{ containerPath: '/toggle', hostPath: toggleDir }],
      logPath: 'server/0.log',
    },
  });
  await cri.startContainer({ containerId });
  const logFile = join(config.logDirectory!, 'server/0.log');
  await waitFor(() => existsSync(logFile) && readFileSync(logFile, 'utf8').includes(`grpc-health serving on :${port}`),
    { timeoutMs: 30_000, what: 'the server to say it is serving' });
  const { status } = await cri.podSandboxStatus({ podSandboxId });
  ip = status?.network?.ip ?? '';
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/, `sandbox IP ${ip}`);

  await t.test('the probe passes: Check answers SERVING', async () => {
    assert.deepEqual(await probe(), healthy);
  });

  await t.test('20 sequential probes, each on a new connection, all answer', async () => {
    const outcomes = [];
    for (let i = 0; i < 20; i++) outcomes.push(await probe());
    assert.deepEqual(outcomes, Array(20).fill(healthy));
  });

  await t.test('parallel probes on their own connections and streams on one connection all answer', async () => {
    assert.deepEqual(await Promise.all(Array.from({ length: 10 }, probe)), Array(10).fill(healthy));
    const Health = healthService();
    const shared = new Health(`${ip}:${port}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
    try {
      assert.deepEqual(await Promise.all(Array.from({ length: 10 }, () => check(shared))), Array(10).fill('SERVING'));
    } finally {
      shared.close();
    }
  });

  await t.test('a connection that does not speak HTTP/2 is dropped, and serving goes on', async () => {
    const socket = connect(port, ip);
    socket.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    socket.resume();
    // Closed with our bytes unread, so the kernel may answer with a reset rather than a FIN.
    await new Promise<void>((resolve, reject) => socket.on('close', () => resolve())
      .on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve() : reject(err))));
    assert.deepEqual(await probe(), healthy);
  });

  await t.test('Check answers NOT_SERVING while the toggle file exists, SERVING again once it is gone', async () => {
    writeFileSync(join(toggleDir, 'not-serving'), '');
    assert.deepEqual(await probe(), { result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    rmSync(join(toggleDir, 'not-serving'));
    assert.deepEqual(await probe(), healthy);
  });

  await t.test('every connection\'s child has exited once its client closed', async () => {
    // One forked child per connection: none may outlive its connection (or linger as a zombie).
    const pid = JSON.parse(execFileSync('runc', ['--root', join(world.runtimeRoots.runc, 'k8s.io'), 'state', containerId], { encoding: 'utf8' })).pid as number;
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^\/grpc-health\0/);
    const children = () => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    await waitFor(() => children() === '', { timeoutMs: 10_000, what: `the server's per-connection children (of pid ${pid}) to exit` });
  });

  await t.test('SIGTERM stops it with exit code 0, well before the grace period', async () => {
    const started = performance.now();
    await cri.stopContainer({ containerId, timeout: 20 });
    assert.ok(performance.now() - started < 10_000, 'stopped by SIGTERM, not the SIGKILL after the grace period');
    const { status: container } = await cri.containerStatus({ containerId });
    assert.equal(container?.state, 'CONTAINER_EXITED');
    assert.equal(Number(container?.exitCode), 0);
  });
});
