// The simulated runtime driven through CriClient over a real unix socket: what the runtime
// manager will see from it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { CriClient } from '../../src/cri/client.ts';
import { GrpcStatus } from '../../src/cri/errors.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import type { ContainerConfig, PodSandboxConfig } from '../../src/cri/types.ts';

interface Harness { sim: SimRuntime; cri: CriClient; dir: string; socketPath: string }

async function setup(t: TestContext, opts: { images?: string[] } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'cri-sim-'));
  const socketPath = join(dir, 'sim.sock');
  const sim = await startSimRuntime({ socketPath, images: opts.images ?? ['busybox:1.36'] });
  const cri = CriClient.connect(sim.endpoint, { timeoutMs: 5000 });
  t.after(async () => {
    cri.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { sim, cri, dir, socketPath };
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function podConfig(name: string, dir: string, labels: Record<string, string> = {}, attempt = 0): PodSandboxConfig {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, attempt },
    hostname: name,
    logDirectory: join(dir, 'pods', `default_${name}_uid-${name}`),
    labels: { 'io.kubernetes.pod.name': name, ...labels },
    annotations: { 'kubernetes.io/config.source': 'api' },
  };
}

function containerConfig(name: string, command: string[], labels: Record<string, string> = {}): ContainerConfig {
  return {
    metadata: { name, attempt: 0 },
    image: { image: 'busybox:1.36' },
    command,
    logPath: `${name}/0.log`,
    labels: { 'io.kubernetes.container.name': name, ...labels },
    annotations: { 'io.kubernetes.container.hash': 'abc123' },
  };
}

async function runContainer(cri: CriClient, sandbox: { id: string; config: PodSandboxConfig }, config: ContainerConfig): Promise<string> {
  const { containerId } = await cri.createContainer({ podSandboxId: sandbox.id, config, sandboxConfig: sandbox.config });
  await cri.startContainer({ containerId });
  return containerId;
}

async function runPod(cri: CriClient, config: PodSandboxConfig, runtimeHandler = ''): Promise<{ id: string; config: PodSandboxConfig }> {
  const { podSandboxId } = await cri.runPodSandbox({ config, runtimeHandler });
  return { id: podSandboxId, config };
}

const exitedStatus = (cri: CriClient, containerId: string) => async () => {
  const { status } = await cri.containerStatus({ containerId });
  return status?.state === 'CONTAINER_EXITED' ? status : undefined;
};

test('Version names the simulated runtime', async (t) => {
  const { cri } = await setup(t);
  const v = await cri.version();
  assert.equal(v.runtimeName, 'mini-kubelet-sim');
  assert.equal(v.runtimeApiVersion, 'v1');
  const s = await cri.status();
  assert.deepEqual(s.status?.conditions.map((c) => [c.type, c.status]), [['RuntimeReady', true], ['NetworkReady', true]]);
});

test('full lifecycle: sandbox, pull, create, start, status, stop, remove', async (t) => {
  const { cri, dir } = await setup(t, { images: [] });
  const pod = await runPod(cri, podConfig('web', dir));
  assert.match(pod.id, /^[0-9a-f]{64}$/);

  const sb = (await cri.podSandboxStatus({ podSandboxId: pod.id })).status!;
  assert.equal(sb.state, 'SANDBOX_READY');
  assert.match(sb.network!.ip, /^10\.88\.\d+\.\d+$/);
  assert.equal(sb.labels['io.kubernetes.pod.name'], 'web');
  assert.equal(sb.annotations['kubernetes.io/config.source'], 'api');
  assert.ok(sb.createdAt > Date.now() * 1e6 - 60e9, 'created_at is in nanoseconds');

  assert.equal((await cri.imageStatus({ image: { image: 'busybox:1.36' } })).image, null);
  const { imageRef } = await cri.pullImage({ image: { image: 'busybox:1.36' } });
  assert.match(imageRef, /^sha256:[0-9a-f]{64}$/);
  const img = (await cri.imageStatus({ image: { image: 'docker.io/library/busybox:1.36' } })).image;
  assert.equal(img?.id, imageRef);
  assert.deepEqual(img?.repoTags, ['docker.io/library/busybox:1.36']);

  const config = containerConfig('app', ['sh', '-c', 'echo hello; echo world; while true; do sleep 1; done']);
  const { containerId } = await cri.createContainer({ podSandboxId: pod.id, config, sandboxConfig: pod.config });
  assert.match(containerId, /^[0-9a-f]{64}$/);
  let st = (await cri.containerStatus({ containerId })).status!;
  assert.equal(st.state, 'CONTAINER_CREATED');
  assert.equal(st.startedAt, 0);

  await cri.startContainer({ containerId });
  st = (await cri.containerStatus({ containerId })).status!;
  assert.equal(st.state, 'CONTAINER_RUNNING');
  assert.ok(st.startedAt >= st.createdAt);
  assert.equal(st.metadata?.name, 'app');
  assert.equal(st.labels['io.kubernetes.container.name'], 'app');
  assert.equal(st.annotations['io.kubernetes.container.hash'], 'abc123');
  assert.equal(st.imageId, imageRef);
  assert.equal(st.logPath, join(pod.config.logDirectory!, 'app/0.log'));
  const log = await readFile(st.logPath, 'utf8');
  assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello\n.* stdout F world\n$/);

  await assert.rejects(cri.startContainer({ containerId }), /CONTAINER_RUNNING state/);

  await cri.stopContainer({ containerId, timeout: 10 });
  st = (await cri.containerStatus({ containerId })).status!;
  assert.equal(st.state, 'CONTAINER_EXITED');
  assert.equal(st.exitCode, 0);
  assert.equal(st.reason, 'Completed');
  assert.ok(st.finishedAt >= st.startedAt);

  await cri.removeContainer({ containerId });
  await assert.rejects(cri.containerStatus({ containerId }), (err: { code: number }) => err.code === GrpcStatus.NOT_FOUND);
  await cri.removeContainer({ containerId }); // idempotent

  await cri.stopPodSandbox({ podSandboxId: pod.id });
  const stopped = (await cri.podSandboxStatus({ podSandboxId: pod.id })).status!;
  assert.equal(stopped.state, 'SANDBOX_NOTREADY');
  assert.equal(stopped.network?.ip, '');
  await cri.removePodSandbox({ podSandboxId: pod.id });
  assert.deepEqual((await cri.listPodSandbox()).items, []);
  await cri.removePodSandbox({ podSandboxId: pod.id }); // idempotent
});

test('"sh -c exit 3" exits at once with code 3 and reason Error', async (t) => {
  const { cri, dir } = await setup(t);
  const pod = await runPod(cri, podConfig('fails', dir));
  const id = await runContainer(cri, pod, containerConfig('c', ['/bin/sh', '-c', 'exit 3']));
  const st = await waitFor('container to exit', exitedStatus(cri, id));
  assert.equal(st.exitCode, 3);
  assert.equal(st.reason, 'Error');
});

test('"sleep 1" runs for about a second, then exits 0 Completed', async (t) => {
  const { cri, dir } = await setup(t);
  const pod = await runPod(cri, podConfig('sleeper', dir));
  const id = await runContainer(cri, pod, containerConfig('c', ['sleep', '1']));
  assert.equal((await cri.containerStatus({ containerId: id })).status?.state, 'CONTAINER_RUNNING');
  const st = await waitFor('container to exit', exitedStatus(cri, id), 5000);
  assert.equal(st.exitCode, 0);
  assert.equal(st.reason, 'Completed');
  const ranSeconds = (st.finishedAt - st.startedAt) / 1e9;
  assert.ok(ranSeconds >= 0.95 && ranSeconds < 3, `ran ${ranSeconds}s`);
});

test('a container that traps SIGTERM is killed (137) when the grace period runs out', async (t) => {
  const { cri, dir } = await setup(t);
  const pod = await runPod(cri, podConfig('stubborn', dir));
  const id = await runContainer(cri, pod, containerConfig('c', ['sh', '-c', 'trap "" TERM; sleep 3600']));
  const started = Date.now();
  await cri.stopContainer({ containerId: id, timeout: 1 });
  assert.ok(Date.now() - started >= 950, 'StopContainer waited for the grace period');
  const st = (await cri.containerStatus({ containerId: id })).status!;
  assert.equal(st.state, 'CONTAINER_EXITED');
  assert.equal(st.exitCode, 137);
  assert.equal(st.reason, 'Error');
});

test('StopPodSandbox kills running containers; RemovePodSandbox removes them', async (t) => {
  const { cri, dir } = await setup(t);
  const pod = await runPod(cri, podConfig('p', dir));
  const id = await runContainer(cri, pod, containerConfig('c', ['nginx']));
  await cri.stopPodSandbox({ podSandboxId: pod.id });
  const st = (await cri.containerStatus({ containerId: id })).status!;
  assert.equal(st.state, 'CONTAINER_EXITED');
  assert.equal(st.exitCode, 137);
  await cri.removePodSandbox({ podSandboxId: pod.id });
  assert.deepEqual((await cri.listContainers()).containers, []);
});

test('List filters: id (and prefix), state, pod_sandbox_id, label_selector', async (t) => {
  const { cri, dir } = await setup(t);
  const a = await runPod(cri, podConfig('a', dir, { tier: 'front' }));
  const b = await runPod(cri, podConfig('b', dir, { tier: 'back' }));
  await cri.stopPodSandbox({ podSandboxId: b.id });
  const a1 = await runContainer(cri, a, containerConfig('one', ['nginx'], { role: 'main' }));
  const { containerId: a2 } = await cri.createContainer({ podSandboxId: a.id, config: containerConfig('two', ['nginx'], { role: 'side' }), sandboxConfig: a.config });

  const sandboxIds = async (filter: object) => (await cri.listPodSandbox({ filter })).items.map((s) => s.id).sort();
  assert.deepEqual(await sandboxIds({}), [a.id, b.id].sort());
  assert.deepEqual(await sandboxIds({ id: b.id }), [b.id]);
  assert.deepEqual(await sandboxIds({ id: a.id.slice(0, 12) }), [a.id]);
  assert.deepEqual(await sandboxIds({ state: { state: 'SANDBOX_READY' } }), [a.id]);
  assert.deepEqual(await sandboxIds({ state: { state: 'SANDBOX_NOTREADY' } }), [b.id]);
  assert.deepEqual(await sandboxIds({ labelSelector: { tier: 'back' } }), [b.id]);
  assert.deepEqual(await sandboxIds({ labelSelector: { tier: 'back', 'io.kubernetes.pod.name': 'a' } }), []);

  const containerIds = async (filter: object) => (await cri.listContainers({ filter })).containers.map((c) => c.id).sort();
  assert.deepEqual(await containerIds({ podSandboxId: a.id }), [a1, a2].sort());
  assert.deepEqual(await containerIds({ podSandboxId: b.id }), []);
  assert.deepEqual(await containerIds({ id: a2 }), [a2]);
  assert.deepEqual(await containerIds({ state: { state: 'CONTAINER_RUNNING' } }), [a1]);
  assert.deepEqual(await containerIds({ state: { state: 'CONTAINER_CREATED' } }), [a2]);
  assert.deepEqual(await containerIds({ labelSelector: { role: 'side' } }), [a2]);
  assert.deepEqual(await containerIds({ id: 'f'.repeat(64) }), []);

  const listed = (await cri.listContainers({ filter: { id: a1 } })).containers[0]!;
  assert.equal(listed.podSandboxId, a.id);
  assert.equal(listed.metadata?.name, 'one');
  assert.equal(listed.labels.role, 'main');
});

test('RunPodSandbox routes runtime handlers and rejects unknown ones like containerd', async (t) => {
  const { cri, dir } = await setup(t);
  const alt = await runPod(cri, podConfig('alt', dir), 'runc-alt');
  assert.equal((await cri.podSandboxStatus({ podSandboxId: alt.id })).status?.runtimeHandler, 'runc-alt');
  await assert.rejects(runPod(cri, podConfig('bad', dir), 'kata'), (err: { code: number; message: string }) =>
    err.code === GrpcStatus.UNKNOWN && err.message.includes('no runtime for "kata" is configured'));
});

test('a second RunPodSandbox for the same pod and attempt fails; the next attempt works', async (t) => {
  const { cri, dir } = await setup(t);
  await runPod(cri, podConfig('p', dir));
  await assert.rejects(runPod(cri, podConfig('p', dir)), /failed to reserve sandbox name/);
  await runPod(cri, podConfig('p', dir, {}, 1));
});

test('images: missing names fail to pull with NOT_FOUND; create needs a present image', async (t) => {
  const { cri, sim, dir } = await setup(t, { images: [] });
  await assert.rejects(cri.pullImage({ image: { image: 'example.com/does-not-exist:1' } }),
    (err: { code: number; message: string }) => err.code === GrpcStatus.NOT_FOUND && err.message.includes('failed to pull and unpack image'));
  const pod = await runPod(cri, podConfig('p', dir));
  await assert.rejects(cri.createContainer({ podSandboxId: pod.id, config: containerConfig('c', ['true']), sandboxConfig: pod.config }),
    (err: { code: number }) => err.code === GrpcStatus.NOT_FOUND);
  await cri.pullImage({ image: { image: 'busybox:1.36' }, auth: { username: 'u', password: 'p' } });
  assert.deepEqual(sim.state.pulls.at(-1)?.auth?.username, 'u');
  assert.equal((await cri.listImages()).images.length, 1);
  await cri.removeImage({ image: { image: 'busybox:1.36' } });
  assert.equal((await cri.listImages()).images.length, 0);
});

test('faults: the nth call fails with the given code, the others succeed', async (t) => {
  const { cri, sim, dir } = await setup(t);
  sim.faults.fail('RunPodSandbox', { nth: 2, code: GrpcStatus.RESOURCE_EXHAUSTED, message: 'no room' });
  await runPod(cri, podConfig('one', dir));
  await assert.rejects(runPod(cri, podConfig('two', dir)), (err: { code: number; message: string }) =>
    err.code === GrpcStatus.RESOURCE_EXHAUSTED && err.message.includes('no room'));
  await runPod(cri, podConfig('two', dir)); // the failed call reserved nothing
  assert.equal(sim.faults.callCount('RunPodSandbox'), 3);
});

test('faults: times covers consecutive calls, clear() ends them', async (t) => {
  const { cri, sim } = await setup(t);
  sim.faults.fail('Version', { times: 2, code: GrpcStatus.INTERNAL });
  await assert.rejects(cri.version(), (err: { code: number }) => err.code === GrpcStatus.INTERNAL);
  await assert.rejects(cri.version(), (err: { code: number }) => err.code === GrpcStatus.INTERNAL);
  await cri.version();
  sim.faults.fail('Version', { times: Infinity });
  await assert.rejects(cri.version());
  sim.faults.clear();
  await cri.version();
});

test('faults: a delay holds only the targeted call; a short client deadline gives DEADLINE_EXCEEDED', async (t) => {
  const { cri, sim } = await setup(t);
  sim.faults.delay('ListPodSandbox', 1000, { nth: 2 });
  const timed = async () => { const t0 = Date.now(); await cri.listPodSandbox(); return Date.now() - t0; };
  assert.ok(await timed() < 800, 'first call is not delayed');
  assert.ok(await timed() >= 990, 'second call is delayed');
  assert.ok(await timed() < 800, 'third call is not delayed');

  sim.faults.delay('Version', 1000);
  await assert.rejects(cri.version(undefined, { timeoutMs: 100 }), (err: { code: number }) => err.code === GrpcStatus.DEADLINE_EXCEEDED);
});

test('client survives a runtime restart: UNAVAILABLE while down, works again after', async (t) => {
  const { cri, sim, socketPath } = await setup(t);
  await cri.version();
  await sim.stop();

  const t0 = Date.now();
  await assert.rejects(cri.version(), (err: { code: number; message: string }) =>
    err.code === GrpcStatus.UNAVAILABLE && err.message.includes('unavailable'));
  assert.ok(Date.now() - t0 < 2000, 'fails fast while the runtime is down');

  const again = await startSimRuntime({ socketPath, state: sim.state });
  t.after(() => again.stop());
  assert.equal((await cri.version()).runtimeName, 'mini-kubelet-sim');
});

test('a restarted sim keeps its sandboxes and running containers when given the old state', async (t) => {
  const { cri, sim, dir, socketPath } = await setup(t);
  const pod = await runPod(cri, podConfig('keep', dir));
  const id = await runContainer(cri, pod, containerConfig('c', ['nginx']));
  await sim.stop();
  const again = await startSimRuntime({ socketPath, state: sim.state });
  t.after(() => again.stop());
  assert.deepEqual((await cri.listPodSandbox()).items.map((s) => s.id), [pod.id]);
  assert.equal((await cri.containerStatus({ containerId: id })).status?.state, 'CONTAINER_RUNNING');
});

test('ExecSync plays simple commands', async (t) => {
  const { cri, dir } = await setup(t);
  const pod = await runPod(cri, podConfig('p', dir));
  const id = await runContainer(cri, pod, containerConfig('c', ['nginx']));
  const ok = await cri.execSync({ containerId: id, cmd: ['sh', '-c', 'echo ready'], timeout: 1 });
  assert.equal(ok.exitCode, 0);
  assert.equal(ok.stdout.toString(), 'ready\n');
  assert.equal((await cri.execSync({ containerId: id, cmd: ['sh', '-c', 'exit 4'] })).exitCode, 4);
});

test('at debug level the client logs every call with method and duration', async (t) => {
  const { sim } = await setup(t);
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  const cri = CriClient.connect(sim.endpoint, { logger: pino({ level: 'debug' }, sink) });
  t.after(() => cri.close());
  await cri.version();
  await assert.rejects(cri.containerStatus({ containerId: 'nope' }));
  assert.ok(lines.some((l) => l.method === 'Version' && typeof l.ms === 'number'), JSON.stringify(lines));
  assert.ok(lines.some((l) => l.method === 'ContainerStatus' && l.code === 'NOT_FOUND'), JSON.stringify(lines));
});

test('a separate image endpoint receives the image calls', async (t) => {
  const { sim: runtime, dir } = await setup(t);
  const images = await startSimRuntime({ socketPath: join(dir, 'images.sock') });
  t.after(() => images.stop());
  const cri = CriClient.connect(runtime.endpoint, { imageEndpoint: images.endpoint });
  t.after(() => cri.close());
  await cri.pullImage({ image: { image: 'alpine:3.20' } });
  assert.deepEqual(images.state.pulls.map((p) => p.image), ['alpine:3.20']);
  assert.deepEqual(runtime.state.pulls, []);
  assert.equal((await cri.listPodSandbox()).items.length, 0);
  assert.equal(runtime.faults.callCount('ListPodSandbox'), 1);
});

test('StopContainer waits out the grace period even when it exceeds the client timeout', async (t) => {
  const { sim, dir } = await setup(t);
  const cri = CriClient.connect(sim.endpoint, { timeoutMs: 300 });
  t.after(() => cri.close());
  const pod = await runPod(cri, podConfig('p', dir));
  const id = await runContainer(cri, pod, containerConfig('c', ['sh', '-c', 'trap "" TERM; sleep 3600']));
  await cri.stopContainer({ containerId: id, timeout: 1 }); // deadline 300 ms + 1 s, as the kubelet sets it
  assert.equal((await cri.containerStatus({ containerId: id })).status?.exitCode, 137);
});

test('Status reflects conditions set on the sim state', async (t) => {
  const { cri, sim } = await setup(t);
  sim.state.setCondition('NetworkReady', false, 'NetworkPluginNotReady', 'cni config uninitialized');
  const network = (await cri.status()).status?.conditions.find((c) => c.type === 'NetworkReady');
  assert.deepEqual(network, { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'cni config uninitialized' });
});

test('a crash injected into a running container shows its exit code and reason', async (t) => {
  const { cri, sim, dir } = await setup(t);
  const pod = await runPod(cri, podConfig('p', dir));
  const id = await runContainer(cri, pod, containerConfig('c', ['nginx']));
  assert.equal(sim.state.containers.crash(id, 137, 'OOMKilled'), true);
  const st = (await cri.containerStatus({ containerId: id })).status!;
  assert.deepEqual([st.state, st.exitCode, st.reason], ['CONTAINER_EXITED', 137, 'OOMKilled']);
  assert.equal(sim.state.containers.crash(id, 1), false, 'an exited container cannot crash again');
});
