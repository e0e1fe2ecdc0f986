// GetContainerEvents on the simulated runtime, through the project's CriClient: one event per
// lifecycle change of a sandbox (named by its own id) and of its containers, each carrying the
// sandbox's and its containers' statuses as they are right after it; UNIMPLEMENTED with events
// off, in process and with `sim-runtime --no-container-events`; a stopping runtime ends the stream.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { firstValueFrom } from 'rxjs';
import { CriClient } from '../../src/cri/client.ts';
import { CriError, GrpcStatus } from '../../src/cri/errors.ts';
import { startSimRuntime } from '../../src/cri/sim/index.ts';
import type { ContainerConfig, ContainerEventResponse, PodSandboxConfig } from '../../src/cri/types.ts';
import { waitFor } from '../../src/world/wait.ts';

const sandboxConfig: PodSandboxConfig = {
  metadata: { name: 'p', namespace: 'default', uid: 'uid-p', attempt: 0 },
  labels: { 'io.kubernetes.pod.uid': 'uid-p' },
};
const containerConfig: ContainerConfig = {
  metadata: { name: 'c', attempt: 0 }, image: { image: 'busybox:1.36' }, command: ['sleep', '3600'],
  labels: { 'io.kubernetes.pod.uid': 'uid-p', 'io.kubernetes.container.name': 'c' },
};

const isUnimplemented = (err: unknown) => {
  assert.ok(err instanceof CriError, String(err));
  assert.equal(err.code, GrpcStatus.UNIMPLEMENTED);
  return true;
};

test('the sim streams every sandbox and container change with the statuses after it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cri-sim-events-'));
  const sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  const cri = CriClient.connect(sim.endpoint, { timeoutMs: 10_000 });
  try {
    let opened = false;
    const events: ContainerEventResponse[] = [];
    const sub = cri.containerEvents({ onOpen: () => { opened = true; } }).subscribe((e) => events.push(e));
    await waitFor(() => opened, { what: 'the stream to open', timeoutMs: 5000 });

    const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
    const { containerId } = await cri.createContainer({ podSandboxId, config: containerConfig, sandboxConfig });
    await cri.startContainer({ containerId });
    await cri.stopContainer({ containerId, timeout: 1 });
    await cri.removeContainer({ containerId });
    await cri.stopPodSandbox({ podSandboxId });
    await cri.removePodSandbox({ podSandboxId });
    await waitFor(() => events.length >= 8, { what: 'eight events', timeoutMs: 5000 });
    sub.unsubscribe();

    const s = podSandboxId;
    const c = containerId;
    assert.deepEqual(events.map((e) => `${e.containerId === s ? 'sandbox' : e.containerId === c ? 'container' : e.containerId} ${e.containerEventType}`), [
      'sandbox CONTAINER_CREATED_EVENT', 'sandbox CONTAINER_STARTED_EVENT',
      'container CONTAINER_CREATED_EVENT', 'container CONTAINER_STARTED_EVENT', 'container CONTAINER_STOPPED_EVENT', 'container CONTAINER_DELETED_EVENT',
      'sandbox CONTAINER_STOPPED_EVENT', 'sandbox CONTAINER_DELETED_EVENT',
    ]);
    for (const e of events) {
      assert.equal(e.podSandboxStatus?.id, s, 'every event carries its sandbox');
      assert.equal(e.podSandboxStatus?.labels['io.kubernetes.pod.uid'], 'uid-p');
      assert.ok(e.createdAt > 0);
    }
    const stateOf = (e: ContainerEventResponse) => e.containersStatuses.map((x) => x.state);
    assert.deepEqual(events.map(stateOf), [
      [], [], ['CONTAINER_CREATED'], ['CONTAINER_RUNNING'], ['CONTAINER_EXITED'], [], [], [],
    ], "the sandbox's containers as they are after each change");
    assert.equal(events[6]!.podSandboxStatus?.state, 'SANDBOX_NOTREADY');
    assert.equal(events[1]!.podSandboxStatus?.state, 'SANDBOX_READY');
  } finally {
    cri.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a container that exits by itself, or is crashed, is a STOPPED event; a stopping runtime ends the stream', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cri-sim-events-'));
  const sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  const cri = CriClient.connect(sim.endpoint, { timeoutMs: 10_000 });
  try {
    const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
    const quick = await cri.createContainer({ podSandboxId, config: { ...containerConfig, metadata: { name: 'quick', attempt: 0 }, command: ['sh', '-c', 'exit 3'] }, sandboxConfig });
    const slow = await cri.createContainer({ podSandboxId, config: containerConfig, sandboxConfig });
    await cri.startContainer({ containerId: slow.containerId });

    const events: ContainerEventResponse[] = [];
    let opened = false;
    let ended: 'complete' | 'error' | undefined;
    cri.containerEvents({ onOpen: () => { opened = true; } }).subscribe({
      next: (e) => events.push(e), complete: () => { ended = 'complete'; }, error: () => { ended = 'error'; },
    });
    await waitFor(() => opened, { what: 'the stream to open', timeoutMs: 5000 });
    const stops = () => events.filter((e) => e.containerEventType === 'CONTAINER_STOPPED_EVENT');

    await cri.startContainer({ containerId: quick.containerId });
    await waitFor(() => stops().length === 1, { what: 'quick to stop by itself', timeoutMs: 5000 });
    assert.equal(sim.state.containers.crash(slow.containerId, 137, 'OOMKilled'), true);
    await waitFor(() => stops().length === 2, { what: 'the crash to be reported', timeoutMs: 5000 });

    assert.deepEqual(stops().map((e) => e.containerId), [quick.containerId, slow.containerId]);
    assert.equal(stops()[0]!.containersStatuses.find((x) => x.id === quick.containerId)?.exitCode, 3);
    const crashed = stops()[1]!.containersStatuses.find((x) => x.id === slow.containerId);
    assert.equal(crashed?.exitCode, 137);
    assert.equal(crashed?.reason, 'OOMKilled');

    await sim.stop();
    await waitFor(() => ended !== undefined, { what: 'the stream to end with the runtime', timeoutMs: 5000 });
    assert.equal(ended, 'complete');
  } finally {
    cri.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('with container events off the stream is UNIMPLEMENTED, as containerd 1.6 answers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cri-sim-events-'));
  const sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), containerEvents: false });
  const cri = CriClient.connect(sim.endpoint, { timeoutMs: 10_000 });
  try {
    await assert.rejects(firstValueFrom(cri.containerEvents()), isUnimplemented);
    assert.equal((await cri.version()).runtimeApiVersion, 'v1', 'everything else is served');
  } finally {
    cri.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('sim-runtime --no-container-events answers UNIMPLEMENTED', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cri-sim-events-'));
  const socketPath = join(dir, 'sim.sock');
  const child = spawn(process.execPath, ['bin/mini-kubelet.mjs', 'sim-runtime', '--listen', `unix://${socketPath}`, '--no-container-events', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
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
    });
    cri = CriClient.connect(endpoint, { timeoutMs: 10_000 });
    await assert.rejects(firstValueFrom(cri.containerEvents()), isUnimplemented);
    cri.close();
    cri = undefined;
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    cri?.close();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
