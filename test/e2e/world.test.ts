// The test world comes up from nothing, serves real CRI on containerd with images from its
// loopback registries (one behind basic auth), runs a networked busybox pod, routes
// sandboxes by runtime handler, and leaves nothing of its own behind when stopped.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { CriClient } from '../../src/cri/client.ts';
import type { PodSandboxConfig } from '../../src/cri/types.ts';
import { pidAlive } from '../../src/world/daemon.ts';
import { mountsUnder, shimPidsOf } from '../../src/world/teardown.ts';
import { reapAbandonedWorlds, startTestWorld } from '../../src/world/test-world.ts';
import { waitFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { startWorldFor } from '../helpers/world.ts';

function sandboxConfig(name: string, logDir: string, hostNetwork = false): PodSandboxConfig {
  const uid = `uid-${name}-${process.pid}`;
  return {
    metadata: { name, uid, namespace: 'default', attempt: 0 },
    // containerd 1.6 refuses a hostname for host-network sandboxes (no private UTS namespace).
    ...(hostNetwork ? {} : { hostname: name }),
    logDirectory: join(logDir, `default_${name}_${uid}`),
    labels: { 'io.kubernetes.pod.name': name },
    linux: { securityContext: { namespaceOptions: { network: hostNetwork ? 'NODE' : 'POD' } } },
  };
}

/** Pid of a runc container's init process, from the handler's runc state root. */
function runcPid(runcRoot: string, id: string): number {
  return JSON.parse(execFileSync('runc', ['--root', join(runcRoot, 'k8s.io'), 'state', id], { encoding: 'utf8' })).pid;
}

function runcIds(runcRoot: string): string[] {
  if (!existsSync(join(runcRoot, 'k8s.io'))) return [];
  return execFileSync('runc', ['--root', join(runcRoot, 'k8s.io'), 'list', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

test('the test world runs real pods and leaves nothing behind', { timeout: 180_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const world = await startWorldFor(t);
  const cri = CriClient.connect(world.containerdEndpoint, { timeoutMs: 60_000 });
  t.after(() => cri.close());
  assert.ok(world.root.length > 1 && existsSync(join(world.root, 'containerd', 'config.toml')));

  await t.test('containerd answers CRI Version', async () => {
    const v = await cri.version();
    assert.equal(v.runtimeName, 'containerd');
    assert.equal(v.runtimeApiVersion, 'v1');
  });

  await t.test('busybox pulls from the loopback registry through CRI', async () => {
    const { imageRef } = await cri.pullImage({ image: { image: world.images.busybox } });
    assert.match(imageRef, /^sha256:[0-9a-f]{64}$/);
    const { image } = await cri.imageStatus({ image: { image: world.images.busybox } });
    assert.ok(image?.repoTags.includes(world.images.busybox));
  });

  await t.test('the private image pulls only with credentials', async () => {
    const image = { image: world.images.privateBusybox };
    await assert.rejects(cri.pullImage({ image }), /401|unauthorized|authoriz/i);
    const wrong = { username: world.authRegistry.username, password: 'not-the-password' };
    await assert.rejects(cri.pullImage({ image, auth: wrong }), /401|unauthorized|authoriz/i);
    const { authRegistry: { username, password } } = world;
    const { imageRef } = await cri.pullImage({ image, auth: { username, password } });
    assert.match(imageRef, /^sha256:/);
  });

  let podPid = 0;
  let sleeperPid = 0;
  let podNetns = '';
  let sleeperCgroup = '';
  await t.test('a busybox pod runs with an IP from the world bridge', async () => {
    const config = sandboxConfig('sleeper', world.podLogDir);
    const { podSandboxId } = await cri.runPodSandbox({ config, runtimeHandler: 'runc' });
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: { metadata: { name: 'sleep', attempt: 0 }, image: { image: world.images.busybox }, command: ['sleep', '3600'], logPath: 'sleep/0.log' },
    });
    await cri.startContainer({ containerId });
    await waitFor(async () => (await cri.containerStatus({ containerId })).status?.state === 'CONTAINER_RUNNING',
      { timeoutMs: 30_000, what: 'container running' });

    const { status } = await cri.podSandboxStatus({ podSandboxId });
    assert.equal(status?.state, 'SANDBOX_READY');
    const ip = status?.network?.ip ?? '';
    assert.ok(world.network);
    const prefix = world.network.subnet.split('.').slice(0, 2).join('.') + '.';
    assert.ok(ip.startsWith(prefix), `pod IP ${ip} should be in ${world.network.subnet}`);
    assert.ok(existsSync(`/sys/class/net/${world.network.bridge}`), 'the world bridge exists');

    podPid = runcPid(world.runtimeRoots.runc, podSandboxId);
    sleeperPid = runcPid(world.runtimeRoots.runc, containerId);
    assert.match(readFileSync(`/proc/${sleeperPid}/cmdline`, 'utf8'), /^sleep\0 ?3600/);
    podNetns = readlinkSync(`/proc/${podPid}/ns/net`);
    // cgroup v1 line "N:memory:/path" (or v2 "0::/path"): where runc put the container.
    const cgroupLine = readFileSync(`/proc/${sleeperPid}/cgroup`, 'utf8').split('\n').find((l) => /:memory:|^0::/.test(l)) ?? '';
    sleeperCgroup = join('/sys/fs/cgroup', cgroupLine.includes(':memory:') ? 'memory' : '', cgroupLine.split(':').slice(2).join(':'));
    assert.ok(existsSync(sleeperCgroup), `container cgroup ${sleeperCgroup} exists`);
    assert.notEqual(podNetns, readlinkSync('/proc/self/ns/net'), 'the pod has a network namespace of its own');
  });

  await t.test('the runtime handler picks which runc ran the sandbox', async () => {
    const config = sandboxConfig('alt', world.podLogDir, true);
    const { podSandboxId } = await cri.runPodSandbox({ config, runtimeHandler: 'runc-alt' });
    assert.ok(runcIds(world.runtimeRoots['runc-alt']).includes(podSandboxId));
    assert.ok(!runcIds(world.runtimeRoots.runc).includes(podSandboxId));
    await assert.rejects(cri.runPodSandbox({ config: sandboxConfig('nohandler', world.podLogDir, true), runtimeHandler: 'no-such-handler' }));
  });

  await t.test('stop leaves no process, mount, netns or bridge of the world behind', async () => {
    const socket = world.containerdEndpoint.slice('unix://'.length);
    const pids = [...world.daemonPids(), ...shimPidsOf(socket), podPid, sleeperPid];
    assert.ok(pids.length >= 5 && pids.every((pid) => pid > 0 && pidAlive(pid)), 'world processes run before stop');
    const netnsId = podNetns.replace(/^net:/, ''); // "[inode]"
    const nsfsMountsOf = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(` net:${netnsId} `));
    assert.ok(nsfsMountsOf().length > 0, 'the pod netns is bind-mounted while the pod exists');

    await world.stop();

    assert.deepEqual(pids.filter(pidAlive), [], 'no process of the world is alive');
    assert.deepEqual(shimPidsOf(socket), []);
    assert.deepEqual(mountsUnder(world.root), []);
    assert.deepEqual(nsfsMountsOf(), [], 'the pod netns is gone');
    assert.ok(!existsSync(`/sys/class/net/${world.network!.bridge}`), 'the bridge is deleted');
    assert.ok(!existsSync(world.root), 'the root is removed');
    assert.ok(!existsSync(sleeperCgroup), 'the container cgroup is removed');
    const cniCache = existsSync('/var/lib/cni/results') ? readdirSync('/var/lib/cni/results') : [];
    assert.deepEqual(cniCache.filter((f) => f.startsWith(`${world.network!.networkName}-`)), [], 'no cached CNI result of ours');
  });
});

test('two worlds run one after another in one process', { timeout: 120_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const parent = mkdtempSync(join(tmpdir(), 'world-test-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  await assert.rejects(startTestWorld({ root: 'relative/root' }), /absolute path/);
  for (const cni of ['bridge', 'none'] as const) {
    // The second world lives under a root the caller chose.
    const root = cni === 'none' ? join(parent, 'world') : undefined;
    const world = await startWorldFor(t, { cni, root });
    if (root) assert.equal(world.root, root);
    const cri = CriClient.connect(world.containerdEndpoint, { timeoutMs: 30_000 });
    try {
      const { status } = await cri.status();
      const network = status?.conditions.find((c) => c.type === 'NetworkReady');
      assert.equal(network?.status, cni === 'bridge', `NetworkReady with cni=${cni}`);
      if (cni === 'none') {
        // The agent's network mode writes its config later: containerd must pick it up.
        writeFileSync(join(world.cniConfDir, '10-late.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'late', plugins: [{ type: 'loopback' }] }));
        await waitFor(async () => (await cri.status()).status?.conditions.some((c) => c.type === 'NetworkReady' && c.status) ?? false,
          { timeoutMs: 20_000, what: 'NetworkReady after a CNI config appears' });
      }
    } finally {
      cri.close();
    }
    await world.stop();
    assert.ok(!existsSync(world.root));
  }
});

// A child process starts a world with a running pod, prints what it started, and then either
// exits (its 'exit' hook tears the world down) or dies by SIGKILL (no hook runs; the next
// reap finds the world by its record and takes it down).
const abandonWorldScript = `
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { startTestWorld } from ${JSON.stringify(new URL('../../src/world/test-world.ts', import.meta.url).pathname)};
import { shimPidsOf } from ${JSON.stringify(new URL('../../src/world/teardown.ts', import.meta.url).pathname)};
import { CriClient } from ${JSON.stringify(new URL('../../src/cri/client.ts', import.meta.url).pathname)};
const world = await startTestWorld();
const cri = CriClient.connect(world.containerdEndpoint);
const config = { metadata: { name: 'orphan', uid: 'orphan-uid', namespace: 'default', attempt: 0 }, hostname: 'orphan', logDirectory: join(world.podLogDir, 'orphan') };
const { podSandboxId } = await cri.runPodSandbox({ config, runtimeHandler: 'runc' });
const state = JSON.parse(execFileSync('runc', ['--root', join(world.runtimeRoots.runc, 'k8s.io'), 'state', podSandboxId], { encoding: 'utf8' }));
const socket = world.containerdEndpoint.slice('unix://'.length);
console.log(JSON.stringify({ root: world.root, socket, podSandboxId, bridge: world.network.bridge, pids: [...world.daemonPids(), ...shimPidsOf(socket), state.pid] }));
if (process.argv.includes('--exit')) process.exit(3);
process.kill(process.pid, 'SIGKILL');
`;

type LeftBehind = { root: string; socket: string; podSandboxId: string; bridge: string; pids: number[] };

function runWorldOwner(how: 'exit' | 'sigkill'): { left: LeftBehind; status: number | null; signal: string | null } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', abandonWorldScript, '--', ...(how === 'exit' ? ['--exit'] : [])],
    { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'ignore'] });
  const left = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as LeftBehind;
  return { left, status: child.status, signal: child.signal };
}

test('a world whose owner exits without stop() is torn down by the exit hook', { timeout: 120_000 }, async (t) => {
  if (!requireE2e(t)) return;
  t.after(() => reapAbandonedWorlds());
  const { left, status } = runWorldOwner('exit');
  assert.equal(status, 3);
  await waitFor(() => !left.pids.some(pidAlive), { timeoutMs: 20_000, what: 'world processes to die' });
  assert.deepEqual(mountsUnder(left.root), []);
  assert.ok(!existsSync(left.root), 'the root is removed');
  assert.ok(!existsSync(`/sys/class/net/${left.bridge}`), 'the bridge is deleted');
});

test('a world whose owner was killed is reaped by the next one', { timeout: 120_000 }, async (t) => {
  if (!requireE2e(t)) return;
  t.after(() => reapAbandonedWorlds());
  const { left, signal } = runWorldOwner('sigkill');
  assert.equal(signal, 'SIGKILL');
  // containerd 1.6 names a shim's socket by sha256(address/namespace/task id).
  const shimSocket = join('/run/containerd/s', createHash('sha256').update(join(left.socket, 'k8s.io', left.podSandboxId)).digest('hex'));
  assert.ok(left.pids.length >= 4 && left.pids.every(pidAlive), 'the dead owner left its world running');
  assert.ok(mountsUnder(left.root).length > 0);
  assert.ok(existsSync(`/sys/class/net/${left.bridge}`));
  assert.ok(existsSync(shimSocket), 'the killed world has a shim socket');

  // Another process starting a world may reap it first; either way it must end up gone.
  reapAbandonedWorlds();

  await waitFor(() => !left.pids.some(pidAlive), { timeoutMs: 20_000, what: 'abandoned world processes to die' });
  assert.deepEqual(mountsUnder(left.root), []);
  assert.ok(!existsSync(left.root), 'the abandoned root is removed');
  assert.ok(!existsSync(`/sys/class/net/${left.bridge}`), 'the abandoned bridge is deleted');
  assert.ok(!existsSync(shimSocket), 'the shim socket is removed');
});
