// Pod networking end to end: the agent harness (test world + dev API server + the agent as a
// child process) set up for one of the two network modes.
// - 'agent': a world without CNI config; `mini-kubelet cni install` puts the delegate plugin
//   into the world's CNI dirs, and the agent runs the real chain from a conflist of its own
//   (bridge + host-local + portmap on a bridge and /24 subnet unique to this harness).
// - 'runtime': the world's own bridge conflist; containerd runs CNI, the agent reads the IPs.
// Teardown removes every sandbox while the agent still answers the delegate (so DEL really
// runs), then the agent, the world, the bridge and the temp dir.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { CriClient } from '../../src/cri/client.ts';
import { startTestWorld, type TestWorld } from '../../src/world/test-world.ts';
import { unmountAllUnder } from '../../src/world/teardown.ts';
import { waitFor } from '../../src/world/wait.ts';
import { ipInSubnet, isRunningAndReady, namespace, startAgentHarness, type AgentHarness, type CleanupScope } from './agent-harness.ts';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '..', '..');
const agentBin = join(repoRoot, 'bin', 'mini-kubelet.mjs');
const quiet = pino({ level: process.env.MINI_KUBELET_E2E_LOG ?? 'warn' }, pino.destination(2));

export type NetworkMode = 'agent' | 'runtime';

export interface NetHarness extends AgentHarness {
  mode: NetworkMode;
  /** The subnet pods get their IPs from (the agent's conflist, or the world's bridge). */
  subnet: string;
  /** The agent's --root-dir. */
  rootDir: string;
  /** Agent mode: host-local's dataDir of the agent's conflist (one file per leased IP under <dir>/<network>/). */
  ipamDataDir?: string;
  /** Agent mode: the agent's CNI network name. */
  networkName?: string;
  /** IPs host-local holds for the agent's network (agent mode). */
  allocatedIps(): string[];
  /** Network namespaces containerd keeps for this world's sandboxes. */
  worldNetns(): string[];
  /** Results the agent's network manager keeps cached (<root>/cni/results). */
  cachedResults(): string[];
  deletePod(name: string): Promise<void>;
  /** Runs a command in a pod's first running container through CRI ExecSync. */
  execIn(pod: V1Pod, cmd: string[], timeoutS?: number): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(cmd, args, { timeout: 30_000 });
  return stdout;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** 10.250-254.X.0/24 with a bridge mkn<hex>: away from the world's 10.100-199 and the CNI tests' 10.200-249. */
async function pickAgentNetwork(): Promise<{ bridge: string; subnet: string; gateway: string; networkName: string }> {
  const routes = await sh('ip', '-4', 'route');
  for (let attempt = 0; attempt < 100; attempt++) {
    const a = randomInt(250, 255);
    const b = randomInt(0, 256);
    const prefix = `10.${a}.${b}`;
    const tag = `${a.toString(16)}${b.toString(16).padStart(2, '0')}${randomInt(0, 4096).toString(16).padStart(3, '0')}`;
    const bridge = `mkn${tag}`;
    if (routes.includes(`${prefix}.0/24`) || listDir('/sys/class/net').includes(bridge)) continue;
    return { bridge, subnet: `${prefix}.0/24`, gateway: `${prefix}.1`, networkName: `mk-agent-${tag}` };
  }
  throw new Error('no free subnet in 10.250-254.x.0/24 for the agent network');
}

/** Removes every sandbox of the world through CRI (containerd runs CNI DEL for each). */
async function removeAllSandboxes(cri: CriClient): Promise<void> {
  const { items } = await cri.listPodSandbox({});
  await Promise.all(items.map(async (s) => {
    await cri.stopPodSandbox({ podSandboxId: s.id });
    await cri.removePodSandbox({ podSandboxId: s.id });
  }));
}

export async function startNetHarness(t: CleanupScope, mode: NetworkMode): Promise<NetHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'mk-net-'));
  const rootDir = join(dir, 'root');
  mkdirSync(rootDir, { recursive: true });
  // One cleanup in our own order: sandboxes (agent still up) → agent + API → world → bridge → dir.
  const harnessCleanups: Array<() => Promise<void>> = [];
  let world: TestWorld | undefined;
  let cri: CriClient | undefined;
  let bridge: string | undefined;
  t.after(async () => {
    if (cri) await removeAllSandboxes(cri).catch((err) => quiet.warn({ err: (err as Error).message }, 'could not remove sandboxes before the agent stops'));
    cri?.close();
    for (const fn of harnessCleanups.reverse()) await fn().catch((err) => quiet.warn({ err: (err as Error).message }, 'harness cleanup failed'));
    await world?.stop();
    if (bridge) await sh('ip', 'link', 'del', bridge).catch(() => {});
    // A stopped agent leaves its pods' volume mounts (tmpfs) in place, as a kubelet does.
    const stuck = unmountAllUnder(dir);
    if (stuck.length) throw new Error(`mounts left under ${dir}: ${stuck.join(', ')}`);
    rmSync(dir, { recursive: true, force: true });
  });
  const scope: CleanupScope = { after: (fn) => void harnessCleanups.push(fn) };

  let h: AgentHarness;
  let subnet: string;
  let ipamDataDir: string | undefined;
  let networkName: string | undefined;
  if (mode === 'agent') {
    world = await startTestWorld({ cni: 'none', logger: quiet });
    const net = await pickAgentNetwork();
    bridge = net.bridge;
    subnet = net.subnet;
    networkName = net.networkName;
    ipamDataDir = join(dir, 'ipam');
    const confDir = join(dir, 'net.d');
    mkdirSync(confDir, { recursive: true });
    writeFileSync(join(confDir, '10-agent.conflist'), JSON.stringify({
      cniVersion: '1.0.0',
      name: net.networkName,
      // Debian's portmap 1.1.1 fails CHECK for IPv4-only pods (src/cni/README.md).
      disableCheck: true,
      plugins: [
        {
          type: 'bridge', bridge: net.bridge, isGateway: true, ipMasq: false, hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: net.subnet, gateway: net.gateway }]], dataDir: ipamDataDir },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }, null, 2));
    // The runtime's side, as a user installs it: the delegate and its conflist in containerd's dirs.
    await run(process.execPath, [agentBin, 'cni', 'install', '--conf-dir', world.cniConfDir, '--bin-dir', world.cniBinDir, '--socket', join(rootDir, 'cni', 'agent.sock')], { cwd: repoRoot, timeout: 60_000 });
    h = await startAgentHarness(scope, {
      world,
      nodeName: 'net-agent-e2e',
      // A later --root-dir wins over the harness's own, so the socket path above is the agent's.
      agentArgs: ['--root-dir', rootDir, '--network-mode', 'agent', '--cni-conf-dir', confDir, '--cni-bin-dir', '/usr/lib/cni'],
    });
  } else {
    world = await startTestWorld({ cni: 'bridge', logger: quiet });
    subnet = world.network!.subnet;
    h = await startAgentHarness(scope, { world, nodeName: 'net-runtime-e2e', agentArgs: ['--root-dir', rootDir] });
  }
  cri = CriClient.connect(world.containerdEndpoint, { timeoutMs: 30_000 });
  const criClient = cri;
  const netnsDir = join(world.root, 'containerd', 'state', 'io.containerd.grpc.v1.cri', 'netns');

  return Object.assign(h, {
    mode,
    subnet,
    rootDir,
    ipamDataDir,
    networkName,
    allocatedIps: () => (ipamDataDir && networkName ? listDir(join(ipamDataDir, networkName)).filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n)) : []),
    worldNetns: () => listDir(netnsDir),
    cachedResults: () => listDir(join(rootDir, 'cni', 'results')),
    async deletePod(name: string) {
      await h.core.deleteNamespacedPod({ name, namespace });
    },
    async execIn(pod: V1Pod, cmd: string[], timeoutS = 15) {
      const [sandbox] = (await h.sandboxesOf(pod.metadata!.uid!)).filter((s) => s.state === 'SANDBOX_READY');
      if (!sandbox) throw new Error(`pod ${pod.metadata?.name} has no ready sandbox`);
      let containerId = '';
      await waitFor(async () => {
        const { containers } = await criClient.listContainers({ filter: { podSandboxId: sandbox.id } });
        containerId = containers.find((c) => c.state === 'CONTAINER_RUNNING')?.id ?? '';
        return containerId !== '';
      }, { timeoutMs: 30_000, intervalMs: 100, what: `a running container in pod ${pod.metadata?.name}` });
      const res = await criClient.execSync({ containerId, cmd, timeout: timeoutS });
      return { exitCode: res.exitCode, stdout: Buffer.from(res.stdout ?? []).toString('utf8'), stderr: Buffer.from(res.stderr ?? []).toString('utf8') };
    },
  });
}

/** A busybox pod serving `/www/index.html` (its own name, written by the container first) with httpd on 8080. */
export function webPod(name: string, image: string, port: { containerPort: number; hostPort?: number } = { containerPort: 8080 }): V1Pod {
  return {
    metadata: { name, namespace },
    spec: {
      terminationGracePeriodSeconds: 2,
      containers: [{
        name: 'web',
        image,
        command: ['sh', '-c', `mkdir -p /www && echo ${name} > /www/index.html && exec httpd -f -p ${port.containerPort} -h /www`],
        ports: [{ ...port, protocol: 'TCP' }],
        // Resolved before CreateContainer: shows the IP was known by then.
        env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
      }],
    },
  };
}

/** wget from inside `from` until it answers with `expect`, or the deadline passes. Debian's
 * busybox 1.35 wget segfaults on -T, so busybox's timeout bounds each attempt instead. */
export async function fetchFromPod(h: NetHarness, from: V1Pod, url: string, expect: string, timeoutMs = 30_000): Promise<void> {
  let last = '';
  await waitFor(async () => {
    const res = await h.execIn(from, ['timeout', '5', 'wget', '-qO-', url], 10);
    last = `exit ${res.exitCode}: ${res.stdout.trim()} ${res.stderr.trim()}`;
    return res.exitCode === 0 && res.stdout.trim() === expect;
  }, { timeoutMs, intervalMs: 250, what: `${from.metadata?.name} to fetch ${url}` }).catch((err) => {
    throw new Error(`${(err as Error).message}; last attempt: ${last}`);
  });
}

/** The two-pod acceptance of both modes: distinct IPs from the harness's subnet, each pod's
 * httpd reachable from the other. Returns the two Running pods. */
export async function assertTwoPodsReachEachOther(h: NetHarness, names: [string, string]): Promise<[V1Pod, V1Pod]> {
  const image = h.world.images.busybox;
  await Promise.all(names.map((n) => h.createPod(webPod(n, image))));
  const [a, b] = (await Promise.all(names.map((n) => h.waitForPod(n, 'Running and Ready with a pod IP', (p) => isRunningAndReady(p) && !!p?.status?.podIP)))) as [V1Pod, V1Pod];
  const [ipA, ipB] = [a.status!.podIP!, b.status!.podIP!];
  assert.notEqual(ipA, ipB, 'the two pods have distinct IPs');
  for (const pod of [a, b]) {
    const ip = pod.status!.podIP!;
    assert.ok(ipInSubnet(ip, h.subnet), `${pod.metadata!.name}'s IP ${ip} lies in ${h.subnet}`);
    assert.deepEqual(pod.status!.podIPs?.map((x) => x.ip), [ip], 'podIPs lists the one IPv4 address');
    const env = await h.execIn(pod, ['sh', '-c', 'echo $POD_IP']);
    assert.equal(env.stdout.trim(), ip, 'the container was created knowing its pod IP (env from status.podIP)');
  }
  await fetchFromPod(h, a, `http://${ipB}:8080/index.html`, names[1]);
  await fetchFromPod(h, b, `http://${ipA}:8080/index.html`, names[0]);
  return [a, b];
}
