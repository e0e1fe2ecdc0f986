// Where the fuzzer's pods run: the dev API server in the fuzzer's process and mini-kubelet as a
// child, on the simulated runtime (in-process, no root) or the test world's containerd (root).
// The cluster also answers what a run must leave behind: nothing (leaks()).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startApiServer, type RunningApiServer } from '../apiserver/index.ts';
import { CriClient } from '../cri/client.ts';
import { unmountAllUnder } from '../world/teardown.ts';
import { AgentChild } from './agent-process.ts';
import { FuzzApiClient } from './api-client.ts';
import type { FuzzImages } from './generate-pod.ts';

export type FuzzRuntime = 'sim' | 'containerd';

export interface FuzzCluster {
  runtime: FuzzRuntime;
  nodeName: string;
  api: FuzzApiClient;
  images: FuzzImages;
  agent: AgentChild;
  rootDir: string;
  /** What is left after every pod was deleted: sandboxes, containers, pod dirs, netns, IPs. */
  leaks(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  runtime: FuzzRuntime;
  logger: Logger;
  maxPods: number;
  /** Keep the state directory (agent log) after stop. */
  keep?: boolean;
}

export async function startCluster(opts: ClusterOptions): Promise<FuzzCluster> {
  const dir = mkdtempSync(join(tmpdir(), `mk-fuzz-${opts.runtime}-`));
  const nodeName = `fuzz-${opts.runtime}`;
  const rootDir = join(dir, 'root');
  const podLogsDir = join(dir, 'pod-logs');
  for (const d of [rootDir, podLogsDir]) mkdirSync(d, { recursive: true });
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch((err) => opts.logger.warn({ err: String(err) }, 'fuzz teardown step failed'));
    // A stopped agent leaves its pods' volumes mounted (tmpfs as root), as a kubelet does.
    const stuck = unmountAllUnder(dir);
    if (stuck.length) opts.logger.warn({ stuck }, 'mounts left under the fuzz dir');
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  };
  try {
    let endpoint: string;
    let images: FuzzImages;
    let extraArgs: string[] = [];
    let worldRoot: string | undefined;
    if (opts.runtime === 'sim') {
      const { startSimRuntime } = await import('../cri/sim/index.ts');
      const sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
      stops.push(() => sim.stop());
      endpoint = sim.endpoint;
      images = { good: ['busybox:1.36', 'docker.io/library/busybox:latest', 'registry.example.com/team/app:v1.2.3', 'nginx'], missing: ['registry.example.com/missing/image:1', 'does-not-exist:latest'] };
    } else {
      const { startTestWorld } = await import('../world/index.ts');
      const world = await startTestWorld({ logger: opts.logger });
      stops.push(() => world.stop());
      endpoint = world.containerdEndpoint;
      worldRoot = world.root;
      images = { good: [world.images.busybox], missing: [`${world.registry}/missing/image:1`, `${world.registry}/does-not-exist:latest`] };
      extraArgs = [];
    }

    const api: RunningApiServer = await startApiServer({ port: 0, binder: false, logger: opts.logger });
    stops.push(() => api.stop());
    const admin = await api.issueClientCertificate('fuzzer', ['system:masters']);
    const client = new FuzzApiClient({ url: api.url, caPem: api.caCertPem, certPem: admin.certPem, keyPem: admin.keyPem });
    stops.push(() => client.close());

    const nodeKubeconfig = join(dir, 'node-kubeconfig');
    writeFileSync(nodeKubeconfig, await api.nodeKubeconfig(nodeName), { mode: 0o600 });
    const clientCa = join(dir, 'client-ca.crt');
    writeFileSync(clientCa, api.caCertPem);
    const config = join(dir, 'kubelet-config.yaml');
    writeFileSync(config, JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration',
      maxPods: opts.maxPods, nodeStatusUpdateFrequency: '2s',
    }));
    const agent = new AgentChild({
      logPath: join(dir, 'agent.log'),
      args: [
        '--config', config, '--kubeconfig', nodeKubeconfig, '--client-ca-file', clientCa, '--hostname-override', nodeName,
        '--container-runtime-endpoint', endpoint, '--root-dir', rootDir, '--pod-logs-dir', podLogsDir,
        '--port', '0', '--log-level', 'info', ...extraArgs,
      ],
      nodeReady: async () => {
        const node = await client.send('GET', `/api/v1/nodes/${nodeName}`);
        return node.status === 200 && (node.body?.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
      },
    });
    stops.push(() => agent.stop());
    await agent.start();

    const cri = CriClient.connect(endpoint, { timeoutMs: 30_000 });
    stops.push(() => cri.close());

    const leaks = async (): Promise<string[]> => {
      const out: string[] = [];
      const { items: sandboxes } = await cri.listPodSandbox({});
      for (const s of sandboxes) out.push(`sandbox ${s.id} of ${s.metadata?.namespace}/${s.metadata?.name} (${s.state})`);
      const { containers } = await cri.listContainers({});
      for (const c of containers ?? []) out.push(`container ${c.id} ${c.labels?.['io.kubernetes.pod.name']}/${c.metadata?.name} (${String(c.state)})`);
      const podsDir = join(rootDir, 'pods');
      if (existsSync(podsDir)) for (const uid of readdirSync(podsDir)) out.push(`pod dir ${join(podsDir, uid)}`);
      if (worldRoot) {
        for (const d of findDirsNamed(join(worldRoot, 'containerd', 'state'), 'netns', 4)) for (const ns of readdirSync(d)) out.push(`netns ${join(d, ns)}`);
        const ipam = join(worldRoot, 'cni', 'ipam');
        if (existsSync(ipam)) {
          for (const net of readdirSync(ipam)) {
            for (const f of readdirSync(join(ipam, net))) if (/^\d+\.\d+\.\d+\.\d+$/.test(f)) out.push(`IP allocation ${net}/${f}`);
          }
        }
      }
      return out;
    };
    return { runtime: opts.runtime, nodeName, api: client, images, agent, rootDir, leaks, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function findDirsNamed(root: string, name: string, depth: number): string[] {
  if (depth < 0 || !existsSync(root)) return [];
  const out: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = join(root, e.name);
    if (e.name === name && statSync(p).isDirectory()) out.push(p);
    else out.push(...findDirsNamed(p, name, depth - 1));
  }
  return out;
}
