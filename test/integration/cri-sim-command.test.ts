// `mini-kubelet sim-runtime` as a separate process, driven through the project's CriClient: it
// answers, its latency flag slows the RPC it names, its fail flag fails the call it names, and
// SIGTERM stops it cleanly and takes its socket away.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CriClient } from '../../src/cri/client.ts';
import { CriError, GrpcStatus } from '../../src/cri/errors.ts';
import type { ContainerConfig, PodSandboxConfig } from '../../src/cri/types.ts';

test('sim-runtime serves CRI with --latency and --fail, and exits 0 on SIGTERM without its socket', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cri-sim-command-'));
  const socketPath = join(dir, 'sim.sock');
  const child = spawn(process.execPath, [
    'bin/mini-kubelet.mjs', 'sim-runtime', '--listen', `unix://${socketPath}`,
    '--latency', 'RunPodSandbox=150ms', '--fail', 'CreateContainer:nth=1', '--image', 'busybox:1.36', '--log-level', 'warn',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let cri: CriClient | undefined;
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/^(unix:\/\/\S+)$/m);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`sim-runtime exited early with ${code}: ${stderr}`)));
      setTimeout(() => reject(new Error(`no endpoint printed within 30 s: ${stderr}`)), 30_000).unref();
    });
    assert.equal(endpoint, `unix://${socketPath}`);
    cri = CriClient.connect(endpoint, { timeoutMs: 10_000 });

    const version = await cri.version();
    assert.equal(version.runtimeApiVersion, 'v1');

    const config: PodSandboxConfig = {
      metadata: { name: 'p', namespace: 'default', uid: 'uid-p', attempt: 0 },
      hostname: 'p',
      logDirectory: join(dir, 'pods', 'default_p_uid-p'),
      labels: { 'io.kubernetes.pod.name': 'p' },
    };
    const started = performance.now();
    const { podSandboxId } = await cri.runPodSandbox({ config });
    const tookMs = performance.now() - started;
    assert.ok(tookMs >= 150, `RunPodSandbox took ${tookMs.toFixed(1)} ms, under its 150 ms latency`);
    assert.ok(podSandboxId);

    const container: ContainerConfig = {
      metadata: { name: 'c', attempt: 0 },
      image: { image: 'busybox:1.36' },
      command: ['sleep', '3600'],
      logPath: 'c/0.log',
      labels: { 'io.kubernetes.container.name': 'c' },
    };
    await assert.rejects(cri.createContainer({ podSandboxId, config: container, sandboxConfig: config }), (err: unknown) => {
      assert.ok(err instanceof CriError, String(err));
      assert.equal(err.code, GrpcStatus.UNKNOWN);
      assert.match(err.message, /injected fault: CreateContainer failed/);
      return true;
    });
    const { containerId } = await cri.createContainer({ podSandboxId, config: container, sandboxConfig: config });
    assert.ok(containerId);

    cri.close();
    cri = undefined;
    assert.ok(existsSync(socketPath));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.equal(existsSync(socketPath), false, 'the socket is removed on stop');
  } finally {
    cri?.close();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('sim-runtime refuses an unknown RPC in --latency with exit 2 and says which', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, ['bin/mini-kubelet.mjs', 'sim-runtime', '--listen', 'unix:///tmp/never-bound.sock', '--latency', 'RunPodSandBox=1ms'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code, 2);
  assert.match(stderr, /--latency: unknown RPC "RunPodSandBox"/);
});
