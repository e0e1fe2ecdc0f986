// The GenericRuntime manager against the simulated CRI runtime over real gRPC: pods go through
// executePodActions and come back through getPodStatus and generatePodStatus as a user would see them.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import { CriClient } from '../../src/cri/client.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import { runtimeOwnedNetwork } from '../../src/cni/sandbox-network.ts';
import { noDevices } from '../../src/device/container-devices.ts';
import { createGenericRuntimeManager } from '../../src/cri/runtime-manager/generic-runtime-manager.ts';
import type { PodRuntime, RuntimePodStatus, SyncContext, SyncResult } from '../../src/cri/runtime-manager/pod-runtime.ts';
import { generatePodStatus } from '../../src/agent/pod-status/generate-pod-status.ts';
import { instancesAfter } from '../../src/cri/runtime-manager/sync-result.ts';

interface Harness { sim: SimRuntime; cri: CriClient; manager: PodRuntime; dir: string }

async function setup(t: TestContext): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'rm-sim-'));
  const sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  const cri = CriClient.connect(sim.endpoint, { timeoutMs: 5000 });
  const manager = createGenericRuntimeManager({
    runtime: cri, network: runtimeOwnedNetwork, devices: noDevices, rootDir: join(dir, 'root'), podLogsDir: join(dir, 'pods'),
    allowPrivileged: false, logger: pino({ level: 'silent' }),
  });
  t.after(async () => {
    cri.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { sim, cri, manager, dir };
}

let podCounter = 0;
function makePod(containers: V1Container[], opts: { restartPolicy?: string; runtimeClassName?: string } = {}): V1Pod {
  podCounter++;
  return {
    metadata: { name: `pod-${podCounter}`, namespace: 'default', uid: `uid-${podCounter}-${process.pid}`, labels: { app: 'test' } },
    spec: { containers, restartPolicy: opts.restartPolicy, runtimeClassName: opts.runtimeClassName, terminationGracePeriodSeconds: 1 },
  };
}
const busybox = (name: string, command?: string[]): V1Container => ({ name, image: 'busybox:1.36', ...(command ? { command } : {}) });

const secrets = new Map<string, V1Secret>();
const ctx: SyncContext = {
  nodeName: 'node-1',
  hostIP: '192.168.0.10',
  getSecret: async (ns, name) => secrets.get(`${ns}/${name}`),
  getConfigMap: async () => undefined,
  resolveRuntimeHandler: async (name) => (name === 'alt' ? 'runc-alt' : undefined),
};

const observe = (h: Harness, pod: V1Pod) => h.manager.getPodStatus(pod.metadata!.uid!, pod.metadata!.name!, 'default');

/** Syncs the pod (re-reading its status each round) until `done` holds or the deadline passes. */
async function syncUntil(h: Harness, pod: V1Pod, what: string, done: (o: RuntimePodStatus, r: SyncResult) => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await h.manager.executePodActions(pod, await observe(h, pod), ctx);
    const observed = await observe(h, pod);
    if (done(observed, result)) return { observed, result };
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify({ observed, result })}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

const statusOf = (pod: V1Pod, observed: RuntimePodStatus, result?: SyncResult) =>
  generatePodStatus(pod, observed, result, { hostIP: ctx.hostIP, podIPs: observed.sandboxes[0]?.ips ?? [], now: new Date(), runtimeName: 'sim' });

test('a two-container pod: one sync starts both, getPodStatus reports them running', async (t) => {
  const h = await setup(t);
  const pod = makePod([busybox('web'), busybox('sidecar', ['sleep', 'infinity'])]);
  const result = await h.manager.executePodActions(pod, await observe(h, pod), ctx);
  assert.deepEqual(result.failures, []);
  assert.deepEqual(result.events.filter(e => e.reason === 'Started').map(e => e.container), ['web', 'sidecar']);

  const observed = await observe(h, pod);
  assert.equal(observed.sandboxes.length, 1);
  assert.equal(observed.sandboxes[0]!.state, 'ready');
  assert.match(observed.sandboxes[0]!.ips[0] ?? '', /^\d+\.\d+\.\d+\.\d+$/);
  assert.deepEqual(observed.containers.map(c => [c.name, c.state]).sort(), [['sidecar', 'running'], ['web', 'running']]);

  const status = statusOf(pod, observed);
  assert.equal(status.phase, 'Running');
  assert.equal(status.podIP, observed.sandboxes[0]!.ips[0]);
  assert.ok(status.conditions!.some(c => c.type === 'Ready' && c.status === 'True'));

  // A second sync finds nothing to do, and the relist sees the same pod by its labels.
  const again = await h.manager.executePodActions(pod, observed, ctx);
  assert.deepEqual(again.events, []);
  const listed = (await h.manager.relist()).find(p => p.uid === pod.metadata!.uid);
  assert.equal(listed?.name, pod.metadata!.name);
  assert.equal(listed?.containers.length, 2);
  // Syncing from the cheap relist snapshot (no IPs in it) must not replace the sandbox.
  const fromRelist = await h.manager.executePodActions(pod, listed!, ctx);
  assert.deepEqual(fromRelist.events, []);
  assert.equal((await observe(h, pod)).sandboxes.length, 1);
});

test('a sync reports what it created; a status read of those instances needs no list call and equals the read by label', async (t) => {
  const h = await setup(t);
  const calls: Record<string, number> = {};
  const counted = CriClient.connect(h.sim.endpoint, { timeoutMs: 5000, metrics: { operation: (name) => () => void (calls[name] = (calls[name] ?? 0) + 1) } });
  t.after(() => counted.close());
  const manager = createGenericRuntimeManager({
    runtime: counted, network: runtimeOwnedNetwork, devices: noDevices, rootDir: join(h.dir, 'root'), podLogsDir: join(h.dir, 'pods'),
    allowPrivileged: false, logger: pino({ level: 'silent' }),
  });
  const pod = makePod([busybox('web'), busybox('sidecar', ['sleep', 'infinity'])]);
  const before = await observe(h, pod);
  const result = await manager.executePodActions(pod, before, ctx);
  assert.equal(result.runtimeChanged, true);
  assert.equal(result.created?.sandboxIds.length, 1);
  assert.equal(result.created?.containers.length, 2);
  const known = instancesAfter(before, result);
  assert.ok(known);
  for (const k of Object.keys(calls)) delete calls[k];
  const fromKnown = await manager.getPodStatus(pod.metadata!.uid!, pod.metadata!.name!, 'default', known);
  assert.deepEqual(calls, { podsandbox_status: 1, container_status: 2 });
  assert.deepEqual(fromKnown, await observe(h, pod));
  // Nothing to do: no change, so the status read before still holds.
  const again = await manager.executePodActions(pod, fromKnown, ctx);
  assert.equal(again.runtimeChanged, undefined);
});

test('exit 3 under restartPolicy Never: the container stays exited with code 3, the pod fails, no new sandbox', async (t) => {
  const h = await setup(t);
  const pod = makePod([busybox('job', ['sh', '-c', 'exit 3'])], { restartPolicy: 'Never' });
  const { observed } = await syncUntil(h, pod, 'the container to exit', o => o.containers[0]?.state === 'exited');
  assert.equal(observed.containers[0]!.exitCode, 3);
  // The next sync stops the sandbox; later ones change nothing.
  await h.manager.executePodActions(pod, observed, ctx);
  const after = await observe(h, pod);
  assert.equal(after.sandboxes.length, 1);
  assert.equal(after.sandboxes[0]!.state, 'notready');
  await h.manager.executePodActions(pod, after, ctx);
  const final = await observe(h, pod);
  assert.equal(final.sandboxes.length, 1);
  assert.equal(final.containers.length, 1);
  const status = statusOf(pod, final);
  assert.equal(status.phase, 'Failed');
  assert.equal(status.containerStatuses![0]!.state!.terminated!.exitCode, 3);
});

test('a crash under restartPolicy Always: one quick restart, then CrashLoopBackOff with the backoff', async (t) => {
  const h = await setup(t);
  const pod = makePod([busybox('crasher', ['sh', '-c', 'echo starting; exit 1'])]);
  const { observed, result } = await syncUntil(h, pod, 'CrashLoopBackOff', (_o, r) => r.waiting.crasher?.reason === 'CrashLoopBackOff');
  assert.match(result.waiting.crasher!.message, new RegExp(`^back-off 10s restarting failed container=crasher pod=${pod.metadata!.name}_default\\(${pod.metadata!.uid}\\)$`));
  assert.ok(result.retryAfterMs! > 0 && result.retryAfterMs! <= 10_000, `retryAfterMs ${result.retryAfterMs}`);
  assert.ok(result.events.some(e => e.reason === 'BackOff' && e.type === 'Warning'));
  const status = statusOf(pod, observed, result);
  const cs = status.containerStatuses![0]!;
  assert.equal(cs.state!.waiting!.reason, 'CrashLoopBackOff');
  assert.equal(cs.lastState!.terminated!.exitCode, 1);
  assert.equal(cs.restartCount, 1);
  assert.equal(status.phase, 'Running');
});

test('RunPodSandbox failing: CreatePodSandboxError and a FailedCreatePodSandBox event', async (t) => {
  const h = await setup(t);
  h.sim.faults.fail('RunPodSandbox', { message: 'no space left on device' });
  const pod = makePod([busybox('web')]);
  const result = await h.manager.executePodActions(pod, await observe(h, pod), ctx);
  assert.equal(result.failures[0]?.reason, 'CreatePodSandboxError');
  assert.match(result.failures[0]!.message, /no space left on device/);
  const event = result.events.find(e => e.reason === 'FailedCreatePodSandBox');
  assert.equal(event?.type, 'Warning');
  assert.match(event!.message, /^Failed to create pod sandbox: .*no space left on device/);
  assert.equal((await observe(h, pod)).sandboxes.length, 0);
});

test('an unknown RuntimeClass never reaches RunPodSandbox; a known one picks its handler', async (t) => {
  const h = await setup(t);
  const before = h.sim.faults.callCount('RunPodSandbox');
  const unknown = makePod([busybox('web')], { runtimeClassName: 'gvisor' });
  const result = await h.manager.executePodActions(unknown, await observe(h, unknown), ctx);
  assert.equal(result.failures[0]?.reason, 'CreatePodSandboxError');
  assert.equal(result.failures[0]?.message, 'runtimeclass.node.k8s.io "gvisor" not found');
  assert.equal(h.sim.faults.callCount('RunPodSandbox'), before);

  const alt = makePod([busybox('web')], { runtimeClassName: 'alt' });
  await h.manager.executePodActions(alt, await observe(h, alt), ctx);
  assert.equal((await observe(h, alt)).sandboxes[0]?.runtimeHandler, 'runc-alt');
});

test('StartContainer failing: RunContainerError as the waiting reason', async (t) => {
  const h = await setup(t);
  h.sim.faults.fail('StartContainer', { message: 'exec: "nope": executable file not found in $PATH' });
  const pod = makePod([busybox('web')]);
  const result = await h.manager.executePodActions(pod, await observe(h, pod), ctx);
  assert.deepEqual(result.waiting.web, { reason: 'RunContainerError', message: 'exec: "nope": executable file not found in $PATH' });
  assert.ok(result.events.some(e => e.reason === 'Failed' && e.message.startsWith('Error: exec')));
  assert.equal(statusOf(pod, await observe(h, pod), result).containerStatuses![0]!.state!.waiting!.reason, 'RunContainerError');
});

test('image problems: a missing image is ErrImagePull then ImagePullBackOff; a bad name is InvalidImageName', async (t) => {
  const h = await setup(t);
  const pod = makePod([{ name: 'web', image: 'registry.local/missing:1' }]);
  const first = await h.manager.executePodActions(pod, await observe(h, pod), ctx);
  assert.equal(first.waiting.web?.reason, 'ErrImagePull');
  assert.deepEqual(first.events.filter(e => e.container === 'web').map(e => e.reason), ['Pulling', 'Failed', 'Failed']);
  const second = await h.manager.executePodActions(pod, await observe(h, pod), ctx);
  assert.deepEqual(second.waiting.web, { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.local/missing:1"' });

  const pulls = h.sim.faults.callCount('PullImage');
  const bad = makePod([{ name: 'web', image: 'Not A Valid/Name' }]);
  const r = await h.manager.executePodActions(bad, await observe(h, bad), ctx);
  assert.equal(r.waiting.web?.reason, 'InvalidImageName');
  assert.equal(h.sim.faults.callCount('PullImage'), pulls);

  const never = makePod([{ name: 'web', image: 'busybox:9.99', imagePullPolicy: 'Never' }]);
  const n = await h.manager.executePodActions(never, await observe(h, never), ctx);
  assert.deepEqual(n.waiting.web, { reason: 'ErrImageNeverPull', message: 'Container image "busybox:9.99" is not present with pull policy of Never' });
});

test('a pull secret for the image registry travels with PullImage', async (t) => {
  const h = await setup(t);
  const dockerconfig = { auths: { 'registry.local:5000': { auth: Buffer.from('alice:s3cret').toString('base64') } } };
  secrets.set('default/regcred', { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify(dockerconfig)).toString('base64') } });
  const pod = makePod([{ name: 'web', image: 'registry.local:5000/app:1' }]);
  pod.spec!.imagePullSecrets = [{ name: 'regcred' }];
  const result = await h.manager.executePodActions(pod, await observe(h, pod), ctx);
  assert.deepEqual(result.failures, []);
  const pull = h.sim.state.pulls.at(-1) as unknown as { auth?: { username?: string; password?: string } };
  assert.equal(pull.auth?.username, 'alice');
  assert.equal(pull.auth?.password, 's3cret');
});

test('a missing secret for an env var is CreateContainerConfigError', async (t) => {
  const h = await setup(t);
  const pod = makePod([{ ...busybox('web'), env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'absent', key: 'token' } } }] }]);
  const result = await h.manager.executePodActions(pod, await observe(h, pod), ctx);
  assert.deepEqual(result.waiting.web, { reason: 'CreateContainerConfigError', message: 'secret "absent" not found' });
});

test('FallbackToLogsOnError: a failed container with no message file reports its log tail', async (t) => {
  const h = await setup(t);
  const pod = makePod([{ ...busybox('job', ['sh', '-c', 'echo something broke; exit 2']), terminationMessagePolicy: 'FallbackToLogsOnError' }], { restartPolicy: 'Never' });
  const { observed } = await syncUntil(h, pod, 'the container to exit', o => o.containers[0]?.state === 'exited');
  assert.equal(observed.containers[0]!.message, 'something broke\n');
});

test('killPod with remove stops and removes every container and sandbox of the pod', async (t) => {
  const h = await setup(t);
  const pod = makePod([busybox('web'), busybox('sidecar')]);
  await h.manager.executePodActions(pod, await observe(h, pod), ctx);
  const observed = await observe(h, pod);
  assert.equal(observed.containers.length, 2);
  const result = await h.manager.killPod({ uid: pod.metadata!.uid!, name: pod.metadata!.name!, namespace: 'default', pod }, observed, 1, true);
  assert.deepEqual(result.failures, []);
  assert.deepEqual(result.events.filter(e => e.reason === 'Killing').map(e => e.container).sort(), ['sidecar', 'web']);
  const after = await observe(h, pod);
  assert.deepEqual(after.sandboxes, []);
  assert.deepEqual(after.containers, []);
  // Idempotent: killing again is fine.
  assert.deepEqual((await h.manager.killPod({ uid: pod.metadata!.uid!, name: pod.metadata!.name!, namespace: 'default' }, after, 1, true)).failures, []);
});

test('garbageCollect removes pods the agent does not know and keeps one dead instance per container', async (t) => {
  const h = await setup(t);
  const known = makePod([busybox('crasher', ['sh', '-c', 'exit 1'])]);
  await syncUntil(h, known, 'two dead instances', o => o.containers.length === 2 && o.containers.every(c => c.state === 'exited'));
  const orphan = makePod([busybox('web')]);
  await h.manager.executePodActions(orphan, await observe(h, orphan), ctx);

  await h.manager.garbageCollect(new Set([known.metadata!.uid!]));
  const o = await observe(h, orphan);
  assert.deepEqual([o.sandboxes.length, o.containers.length], [0, 0]);
  const k = await observe(h, known);
  assert.equal(k.containers.filter(c => c.state === 'exited').length, 1);
  assert.equal(k.sandboxes.length, 1);
});
