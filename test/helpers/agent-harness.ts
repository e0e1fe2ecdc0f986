// The agent end to end, for one e2e test file: a test world (real containerd, registries,
// bridge CNI), the dev API server in-process, and mini-kubelet as a child process, so a test
// can SIGKILL the agent and start it again on the same state. Helpers create objects through
// client-node, await pod conditions by watch (with a deadline, never by sleeping), ask CRI
// what really runs, and tear everything down when the test ends, passed or failed.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, NodeV1Api, Watch, type CoreV1Event, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from '../../src/apiserver/index.ts';
import { CriClient } from '../../src/cri/client.ts';
import type { PodSandbox } from '../../src/cri/types.ts';
import { freeLoopbackPort } from '../../src/world/free-port.ts';
import { unmountAllUnder } from '../../src/world/teardown.ts';
import { startTestWorld, type TestWorld } from '../../src/world/test-world.ts';
import { waitFor } from '../../src/world/wait.ts';

const repoRoot = resolve(import.meta.dirname, '..', '..');
// MINI_KUBELET_AGENT_BIN runs another build of the agent (bench-startup measures a pinned bundle with it).
const agentBin = process.env.MINI_KUBELET_AGENT_BIN ?? join(repoRoot, 'bin', 'mini-kubelet.mjs');
const execFileAsync = promisify(execFile);

export const namespace = 'default';

export interface AgentProcess {
  pid: number;
  healthzPort: number;
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<number | NodeJS.Signals | null>;
}

export interface AgentHarnessOptions {
  /** Node name the agent registers (default agent-e2e). */
  nodeName?: string;
  /** Extra agent flags. */
  agentArgs?: string[];
  /** KubeletConfiguration fields written to the agent's --config file. */
  kubeletConfig?: Record<string, unknown>;
  /** Use this world instead of starting one; its owner stops it. */
  world?: TestWorld;
  /** Dev API server options beyond the harness's own (e.g. a shorter token lifetime floor). */
  apiServer?: Pick<ApiServerOptions, 'minTokenExpirationSeconds' | 'clusterSigningDurationMs'>;
  /** TLS bootstrap: manifests/rbac/ is applied with kubectl, and the agent starts with only a
   * bootstrap kubeconfig (a bootstrap token) and --rotate-certificates, no node kubeconfig. */
  tlsBootstrap?: boolean;
  /** Run the dev API server as its own process (`mini-kubelet apiserver`), so a test can signal
   * it (SIGSTOP/SIGCONT); h.apiServerPid names it. Only url, caCertPem, kubeconfig*, nodeKubeconfig
   * (for this node) and stop() of h.api work then; `apiServer` options do not apply. */
  apiServerProcess?: boolean;
}

/** Where teardown is registered: a node:test TestContext, or a script's own list. */
export interface CleanupScope {
  after(fn: () => Promise<void>): void;
}

export interface AgentHarness {
  world: TestWorld;
  api: RunningApiServer;
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  nodeV1: NodeV1Api;
  /** CRI on the world's containerd: what really runs, independent of the agent. */
  cri: CriClient;
  nodeName: string;
  /** The admin's kubeconfig (kubectl's). */
  kubeconfigPath: string;
  /** The node's own kubeconfig (CN=system:node:<nodeName>): what the agent runs with. */
  nodeKubeconfigPath: string;
  /** The agent's --root-dir (pods/<uid>/volumes live here). */
  rootDir: string;
  /** --pod-manifest-path: static pod files go here. */
  manifestDir: string;
  /** The agent's stdout+stderr (pino JSON), for diagnosis. */
  agentLogPath: string;
  agent: AgentProcess;
  /** The API server's pid when it runs as a process (apiServerProcess). */
  apiServerPid?: number;
  /** Starts the agent (again) on the same root dir; resolves once healthz answers and the node is Ready. */
  startAgent(): Promise<AgentProcess>;
  /** SIGKILL: no cleanup of any kind, as a crash or OOM kill would. */
  killAgent(): Promise<void>;
  createPod(pod: V1Pod): Promise<V1Pod>;
  createSecret(secret: V1Secret): Promise<V1Secret>;
  /** A kubernetes.io/dockerconfigjson Secret with the world's private registry credentials. */
  createPullSecret(name: string): Promise<V1Secret>;
  createRuntimeClass(name: string, handler: string): Promise<void>;
  /** Resolves with the pod once `predicate` holds (undefined: the pod does not exist). The pod is
   * in its JSON form: timestamps are strings despite V1Pod's Date types (compare via new Date()). */
  waitForPod(name: string, what: string, predicate: (pod: V1Pod | undefined) => boolean, timeoutMs?: number): Promise<V1Pod | undefined>;
  waitForPodGone(name: string, timeoutMs?: number): Promise<void>;
  /** Sandboxes CRI holds for a pod UID (every state). */
  sandboxesOf(uid: string): Promise<PodSandbox[]>;
  /** Events recorded for a pod (involvedObject.name), oldest first. */
  eventsOf(podName: string): Promise<CoreV1Event[]>;
  /** Runs the real kubectl against the dev API server; resolves with stdout. */
  kubectl(...args: string[]): Promise<string>;
  /** The last lines of the agent's log (for assertion messages). */
  agentLogTail(lines?: number): string;
}

const quiet = pino({ level: process.env.MINI_KUBELET_E2E_LOG ?? 'warn' }, pino.destination(2));

/** Image pull auth for the world's private registry, as a dockerconfigjson document. */
function dockerConfigJson(world: TestWorld): string {
  const { host, username, password } = world.authRegistry;
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  return JSON.stringify({ auths: { [host]: { username, password, auth } } });
}

export async function startAgentHarness(t: CleanupScope, opts: AgentHarnessOptions = {}): Promise<AgentHarness> {
  const nodeName = opts.nodeName ?? 'agent-e2e';
  const dir = mkdtempSync(join(tmpdir(), 'mk-agent-e2e-'));
  const rootDir = join(dir, 'root');
  const podLogsDir = join(dir, 'pod-logs');
  const manifestDir = join(dir, 'manifests');
  const kubeconfigPath = join(dir, 'kubeconfig');
  const nodeKubeconfigPath = join(dir, 'node-kubeconfig');
  const clientCaPath = join(dir, 'client-ca.crt');
  const configPath = join(dir, 'kubelet-config.yaml');
  const agentLogPath = join(dir, 'agent.log');
  for (const d of [rootDir, podLogsDir, manifestDir]) mkdirSync(d, { recursive: true });

  let world: TestWorld | undefined;
  let api: RunningApiServer | undefined;
  let cri: CriClient | undefined;
  let child: ChildProcess | undefined;
  const killChildOnExit = () => child?.kill('SIGKILL');
  process.on('exit', killChildOnExit);

  const stopAgent = async (signal: NodeJS.Signals, graceMs: number) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  // Registered before anything starts, so a failure half-way still cleans up.
  t.after(async () => {
    await stopAgent('SIGTERM', 5000).catch(() => {});
    process.off('exit', killChildOnExit);
    cri?.close();
    if (!opts.world) await world?.stop();
    await api?.stop();
    // A stopped agent leaves its pods' volumes mounted (a kubelet does: the pods may still run);
    // the test's machine is torn down here, so the tmpfs mounts under its root dir go too.
    const stuck = unmountAllUnder(dir);
    if (stuck.length) throw new Error(`mounts left under ${dir}: ${stuck.join(', ')}`);
    rmSync(dir, { recursive: true, force: true });
  });

  world = opts.world ?? (await startTestWorld({ logger: quiet }));
  // Strict: a field the agent (or a test) writes that the API does not have fails the test.
  let apiServerPid: number | undefined;
  if (opts.apiServerProcess) {
    if (opts.tlsBootstrap) throw new Error('apiServerProcess does not do TLS bootstrap');
    const proc = await startApiServerProcess(dir, kubeconfigPath, nodeKubeconfigPath, nodeName);
    apiServerPid = proc.pid;
    api = proc.api;
  } else {
    api = await startApiServer({ port: 0, binder: true, kubeconfigOut: kubeconfigPath, logger: quiet, defaultFieldValidation: 'Strict', ...opts.apiServer });
  }
  // The admin's kubeconfig (cluster CA, client certificate in system:masters), its context in `namespace`.
  const kubeConfig = api.kubeConfig();
  // The agent runs as the node, as a kubelet does, and trusts the cluster CA for client
  // certificates on its node API (the dev control plane proxies with one from that CA).
  const bootstrapKubeconfigPath = join(dir, 'bootstrap-kubeconfig');
  if (opts.tlsBootstrap) {
    for (const file of ['node-bootstrap.yaml', 'node-rbac.yaml']) {
      await execFileAsync('kubectl', ['--kubeconfig', kubeconfigPath, 'apply', '-f', join(repoRoot, 'manifests', 'rbac', file)], { timeout: 30_000 });
    }
    writeFileSync(bootstrapKubeconfigPath, api.bootstrapKubeconfig(3600_000).kubeconfigYaml, { mode: 0o600 });
  } else if (!opts.apiServerProcess) {
    writeFileSync(nodeKubeconfigPath, await api.nodeKubeconfig(nodeName), { mode: 0o600 });
  }
  writeFileSync(clientCaPath, api.caCertPem);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const nodeV1 = kubeConfig.makeApiClient(NodeV1Api);
  cri = CriClient.connect(world.containerdEndpoint, { timeoutMs: 30_000 });
  // Quick static pod rescans and node status, so tests wait on seconds, not the kubelet's minutes.
  writeFileSync(configPath, JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    fileCheckFrequency: '1s',
    nodeStatusUpdateFrequency: '2s',
    ...opts.kubeletConfig,
  }));
  const log = createWriteStream(agentLogPath, { flags: 'a' });

  const agentLogTail = (lines = 40) => {
    try {
      return readFileSync(agentLogPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };

  const nodeReady = async () => {
    const node = await core.readNode({ name: nodeName });
    return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  };

  const startAgent = async (): Promise<AgentProcess> => {
    const healthzPort = await freeLoopbackPort();
    const args = [
      agentBin,
      '--config', configPath,
      '--kubeconfig', nodeKubeconfigPath,
      '--client-ca-file', clientCaPath,
      '--hostname-override', nodeName,
      '--container-runtime-endpoint', world!.containerdEndpoint,
      '--root-dir', rootDir,
      '--pod-logs-dir', podLogsDir,
      '--pod-manifest-path', manifestDir,
      '--port', '0',
      '--healthz-port', String(healthzPort),
      '--log-level', process.env.MINI_KUBELET_E2E_AGENT_LOG ?? 'info',
      ...(opts.tlsBootstrap ? ['--bootstrap-kubeconfig', bootstrapKubeconfigPath, '--rotate-certificates'] : []),
      ...(opts.agentArgs ?? []),
    ];
    // MINI_KUBELET_AGENT_NODE_FLAGS passes node flags to the agent (e.g. --cpu-prof for a profile).
    const nodeFlags = (process.env.MINI_KUBELET_AGENT_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const c = spawn(process.execPath, [...nodeFlags, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.pipe(log, { end: false });
    c.stderr!.pipe(log, { end: false });
    const exited = new Promise<number | NodeJS.Signals | null>((res) => c.once('exit', (code, signal) => res(signal ?? code)));
    let gone: number | NodeJS.Signals | null | undefined;
    void exited.then((v) => (gone = v));
    await waitFor(async () => {
      if (gone !== undefined) throw new Error(`agent exited (${gone}) before it was healthy:\n${agentLogTail()}`);
      const res = await fetch(`http://127.0.0.1:${healthzPort}/healthz`);
      return res.ok && (await nodeReady());
    }, { timeoutMs: 60_000, intervalMs: 100, what: 'the agent to be healthy and its node Ready' }).catch((err) => {
      if (gone !== undefined) throw new Error(`agent exited (${gone}) before it was healthy:\n${agentLogTail()}`);
      throw new Error(`${(err as Error).message}\nagent log:\n${agentLogTail()}`);
    });
    const running: AgentProcess = { pid: c.pid!, healthzPort, exited };
    harness.agent = running;
    return running;
  };

  const podsPath = `/api/v1/namespaces/${namespace}/pods`;

  const waitForPod: AgentHarness['waitForPod'] = async (name, what, predicate, timeoutMs = 60_000) => {
    const watcher = new Watch(kubeConfig);
    let last: V1Pod | undefined;
    let abort: AbortController | undefined;
    let settled = false;
    try {
      return await new Promise<V1Pod | undefined>((resolvePod, reject) => {
        const timer = setTimeout(() => {
          settled = true;
          const status = last ? JSON.stringify({ phase: last.status?.phase, reason: last.status?.reason, message: last.status?.message, conditions: last.status?.conditions?.map((c) => `${c.type}=${c.status}`), containers: last.status?.containerStatuses, init: last.status?.initContainerStatuses }) : 'absent';
          reject(new Error(`timed out after ${timeoutMs} ms waiting for pod ${name}: ${what}\nlast seen: ${status}\nagent log:\n${agentLogTail(25)}`));
        }, timeoutMs);
        const check = (pod: V1Pod | undefined) => {
          last = pod;
          if (settled || !predicate(pod)) return;
          settled = true;
          clearTimeout(timer);
          resolvePod(pod);
        };
        // List, then watch from the list's resourceVersion; on a closed watch, again.
        const listAndWatch = async (): Promise<void> => {
          if (settled) return;
          try {
            const list = await core.listNamespacedPod({ namespace, fieldSelector: `metadata.name=${name}` });
            // Watch events carry plain JSON (timestamps as strings); list items get the same form.
            check(list.items[0] && (JSON.parse(JSON.stringify(list.items[0])) as V1Pod));
            if (settled) return;
            abort = await watcher.watch(podsPath, { fieldSelector: `metadata.name=${name}`, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
              (type, obj: V1Pod) => {
                if (type === 'BOOKMARK') return;
                check(type === 'DELETED' ? undefined : obj);
              },
              () => void retry());
          } catch {
            await retry();
          }
        };
        const retry = async () => {
          if (settled) return;
          await new Promise((r) => setTimeout(r, 200)); // not a wait on a condition: the rewatch pace
          await listAndWatch();
        };
        void listAndWatch();
      });
    } finally {
      abort?.abort();
    }
  };

  const harness: AgentHarness = {
    world,
    api,
    kubeConfig,
    core,
    nodeV1,
    cri,
    nodeName,
    kubeconfigPath,
    nodeKubeconfigPath,
    rootDir,
    manifestDir,
    agentLogPath,
    agent: undefined as unknown as AgentProcess,
    apiServerPid,
    startAgent,
    async killAgent() {
      await stopAgent('SIGKILL', 0);
    },
    createPod: (pod) => core.createNamespacedPod({ namespace, body: pod }),
    createSecret: (secret) => core.createNamespacedSecret({ namespace, body: secret }),
    createPullSecret: (name) => core.createNamespacedSecret({
      namespace,
      body: { metadata: { name }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': dockerConfigJson(world!) } },
    }),
    async createRuntimeClass(name, handler) {
      await nodeV1.createRuntimeClass({ body: { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name }, handler } });
    },
    waitForPod,
    async waitForPodGone(name, timeoutMs = 60_000) {
      await waitForPod(name, 'gone from the API', (p) => p === undefined, timeoutMs);
    },
    async sandboxesOf(uid) {
      const { items } = await cri!.listPodSandbox({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
      return items;
    },
    async eventsOf(podName) {
      const { items } = await core.listNamespacedEvent({ namespace });
      return items.filter((e) => e.involvedObject?.name === podName);
    },
    async kubectl(...args) {
      try {
        const run = execFileAsync('kubectl', ['--kubeconfig', kubeconfigPath, ...args], { timeout: 30_000 });
        run.child.stdin?.end(); // a prompt (e.g. for a password) fails at once instead of hanging
        return (await run).stdout;
      } catch (err) {
        const { stderr, stdout } = err as { stderr?: string; stdout?: string };
        throw new Error(`kubectl ${args.join(' ')} failed: ${(err as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
      }
    },
    agentLogTail,
  };
  await startAgent();
  return harness;
}

/** `mini-kubelet apiserver` as a child process, writing the admin and the node kubeconfig; resolves
 * once it prints its URL. Its stop() sends SIGCONT first (a test may have left it stopped). */
async function startApiServerProcess(dir: string, kubeconfigPath: string, nodeKubeconfigPath: string, nodeName: string): Promise<{ pid: number; api: RunningApiServer }> {
  const logPath = join(dir, 'apiserver.log');
  const log = createWriteStream(logPath, { flags: 'a' });
  const c = spawn(process.execPath, [agentBin, 'apiserver', '--port', '0', '--kubeconfig-out', kubeconfigPath,
    '--node-kubeconfig-out', nodeKubeconfigPath, '--node-name', nodeName, '--log-level', 'warn'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => c.kill('SIGKILL');
  process.on('exit', killOnExit);
  const exited = once(c, 'exit');
  let out = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stdout!.pipe(log, { end: false });
  c.stderr!.pipe(log, { end: false });
  let gone = false;
  void exited.then(() => (gone = true));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`the API server process printed no URL in 30 s:\n${out}`)), 30_000);
    const look = () => {
      const line = out.split('\n').find((l) => l.startsWith('https://'));
      if (line) {
        clearTimeout(timer);
        c.stdout!.off('data', look);
        resolveUrl(line.trim());
      }
    };
    c.stdout!.on('data', look);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the API server process exited before serving:\n${out}\n${readFileSync(logPath, 'utf8')}`));
    });
  });
  const kubeconfigYaml = readFileSync(kubeconfigPath, 'utf8');
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml);
  const caCertPem = Buffer.from(kc.getCurrentCluster()!.caData!, 'base64').toString('utf8');
  const unsupported = (what: string) => () => {
    throw new Error(`${what} is not available with apiServerProcess`);
  };
  let stopped: Promise<void> | undefined;
  const api: RunningApiServer = {
    url,
    caCertPem,
    kubeconfigPath,
    kubeconfigYaml,
    kubeConfig() {
      const k = new KubeConfig();
      k.loadFromString(kubeconfigYaml);
      return k;
    },
    async nodeKubeconfig(name) {
      if (name !== nodeName) throw new Error(`the API server process wrote a kubeconfig for ${nodeName} only`);
      return readFileSync(nodeKubeconfigPath, 'utf8');
    },
    issueClientCertificate: unsupported('issueClientCertificate'),
    bootstrapKubeconfig: unsupported('bootstrapKubeconfig'),
    createObjects: unsupported('createObjects'),
    stop() {
      stopped ??= (async () => {
        if (!gone) {
          c.kill('SIGCONT');
          c.kill('SIGTERM');
          const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        process.off('exit', killOnExit);
      })();
      return stopped;
    },
  };
  return { pid: c.pid!, api };
}

/** Running, with every container ready and the Ready condition True. */
export function isRunningAndReady(pod: V1Pod | undefined): boolean {
  return pod?.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Whether an IPv4 address lies in a CIDR such as 10.120.0.0/16. */
export function ipInSubnet(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, octet) => (n << 8) + Number(octet), 0) >>> 0;
  const [base, bits] = cidr.split('/');
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === ((toInt(base!) & mask) >>> 0);
}

/** The waiting reason of a pod's container (first container when no name is given). */
export function waitingReason(pod: V1Pod | undefined, container?: string): string | undefined {
  const statuses = pod?.status?.containerStatuses ?? [];
  const s = container ? statuses.find((c) => c.name === container) : statuses[0];
  return s?.state?.waiting?.reason;
}

/** A pod on the world's busybox image with short grace, so deletions take seconds. */
export function busyboxPod(name: string, image: string, spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return {
    metadata: { name, namespace },
    spec: {
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'app', image, command: ['sleep', '3600'] }],
      ...spec,
    },
  };
}
