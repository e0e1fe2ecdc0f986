// Agent-owned pod networking (--network-mode agent). The runtime calls our delegate plugin
// during RunPodSandbox; the delegate forwards the request over a unix socket to this network
// manager, which finds the pod, runs the real chain from --cni-conf-dir with the pod's own
// data (hostPorts, bandwidth annotations), caches the result, records the sandbox's IPs and
// answers in the CNI version the runtime asked for.
import { mkdir, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { BaseLogger } from 'pino';
import { CniClient } from './cni-client.ts';
import { joinSpanOf } from '../trace/in-span.ts';
import { loadNetwork, type NetworkConfigList } from './config.ts';
import { addedNotePath, DEFAULT_AGENT_SOCKET, DELEGATE_SUPPORTED_VERSIONS, pendingDelDir, type DelegateRequest, type DelegateResponse } from './delegate/protocol.mjs';
import { CniErrorCode, CniPluginError } from './errors.ts';
import { parseCniArgs, type CniAttachment } from './plugin-input.ts';
import { podCapabilityArgs } from './pod-capabilities.ts';
import type { CachedAttachment } from './result-cache.ts';
import { ipsOfResult, NO_ERROR_OBJECT_CODE, resultAsVersion } from './result.ts';
import type { SandboxNetwork, SandboxNetworkTarget } from './sandbox-network.ts';
import { isCniVersion, isSupportedCniVersion } from './version.ts';

export { DEFAULT_AGENT_SOCKET };

export interface AgentNetworkOptions {
  rootDir: string;
  confDir: string;
  binDirs: string[];
  networkName?: string;
  /** Default <rootDir>/cni/agent.sock. */
  socketPath?: string;
  lookupPod: (namespace: string, name: string, uid: string) => Promise<V1Pod | undefined>;
  logger: BaseLogger;
  pluginTimeoutMs?: number;
}

export type AgentNetwork = SandboxNetwork & {
  readonly socketPath: string;
  readonly network: NetworkConfigList;
  status(): Promise<{ ready: boolean; message: string }>;
  stop(): Promise<void>;
};

// A unix socket path must fit sockaddr_un.sun_path (108 bytes with the NUL).
const MAX_SOCKET_PATH = 107;

export async function createAgentNetwork(opts: AgentNetworkOptions): Promise<AgentNetwork> {
  const manager = new AgentNetworkManager(opts, await loadNetwork(opts.confDir, opts.networkName));
  await manager.start();
  return manager;
}

class AgentNetworkManager implements AgentNetwork {
  readonly mode = 'agent' as const;
  readonly socketPath: string;
  private readonly client: CniClient;
  private readonly log: BaseLogger;
  private readonly ipsBySandbox = new Map<string, Map<string, string[]>>();
  /** One operation at a time per container: a runtime DEL and a release() must not overlap. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private server?: Server;
  private readonly connections = new Set<Socket>();

  constructor(private readonly opts: AgentNetworkOptions, readonly network: NetworkConfigList) {
    this.socketPath = opts.socketPath ?? join(opts.rootDir, 'cni', 'agent.sock');
    this.client = new CniClient({ binDirs: opts.binDirs, cacheDir: join(opts.rootDir, 'cni', 'results'), logger: opts.logger, timeoutMs: opts.pluginTimeoutMs });
    this.log = opts.logger;
  }

  async start(): Promise<void> {
    if (Buffer.byteLength(this.socketPath) > MAX_SOCKET_PATH) throw new Error(`CNI agent socket path is too long for a unix socket: ${this.socketPath}`);
    // IPs of sandboxes networked before a restart come back from the result cache.
    for (const entry of await this.client.cache.list()) this.record(entry.containerId, entry.ifName, ipsOfResult(entry.result));
    await this.finishPendingDeletes();
    await mkdir(dirname(this.socketPath), { recursive: true });
    await unlink(this.socketPath).catch(() => {});
    // Half-open: the delegate ends its side after the request and still waits for our answer.
    const server = createServer({ allowHalfOpen: true }, (socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.log.info({ socket: this.socketPath, network: this.network.name, file: this.network.file }, 'CNI network manager listening for the delegate plugin');
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    // Let requests in flight finish (a half-done ADD is cleaned up by its own DEL), then drop
    // connections that are still open so close() cannot wait forever.
    await Promise.allSettled([...this.locks.values()]);
    for (const socket of this.connections) socket.destroy();
    await closed;
    await unlink(this.socketPath).catch(() => {});
  }

  ipsOf(sandboxId: string): string[] | undefined {
    const byIf = this.ipsBySandbox.get(sandboxId);
    if (!byIf || byIf.size === 0) return undefined;
    return [...byIf.keys()].sort().flatMap((ifName) => byIf.get(ifName) ?? []);
  }

  async release(target: SandboxNetworkTarget): Promise<void> {
    for (const entry of await this.client.cache.list()) {
      if (entry.containerId !== target.sandboxId) continue;
      const netns = target.netnsPath ?? (await exists(entry.netns) ? entry.netns : '');
      await this.withLock(entry.containerId, () => this.del(entry, { containerId: entry.containerId, ifName: entry.ifName, netns, args: entry.args, capabilityArgs: entry.capabilityArgs }));
    }
    this.ipsBySandbox.delete(target.sandboxId);
  }

  async status(): Promise<{ ready: boolean; message: string }> {
    try {
      for (const plugin of this.network.plugins) await this.client.pluginVersions(plugin.type);
      await this.client.statusNetworkList(this.network);
      return { ready: true, message: `network "${this.network.name}" ready` };
    } catch (err) {
      return { ready: false, message: (err as Error).message };
    }
  }

  private record(containerId: string, ifName: string, ips: string[]): void {
    let byIf = this.ipsBySandbox.get(containerId);
    if (!byIf) this.ipsBySandbox.set(containerId, (byIf = new Map()));
    byIf.set(ifName, ips);
  }

  private forget(containerId: string, ifName: string): void {
    const byIf = this.ipsBySandbox.get(containerId);
    byIf?.delete(ifName);
    if (byIf?.size === 0) this.ipsBySandbox.delete(containerId);
  }

  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(fn);
    this.locks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === run) this.locks.delete(key);
    }
  }

  private async cachedFor(containerId: string, ifName: string): Promise<CachedAttachment | undefined> {
    return (await this.client.cache.list()).find((e) => e.containerId === containerId && e.ifName === ifName);
  }

  /** DEL with the configuration the attachment was made with, then forget it everywhere. */
  private async del(cached: CachedAttachment | undefined, attachment: CniAttachment): Promise<void> {
    await this.client.delNetworkList(cached?.config ?? this.network, attachment);
    this.forget(attachment.containerId, attachment.ifName);
    await rm(addedNotePath(this.socketPath, attachment.containerId, attachment.ifName), { force: true });
    this.log.info({ sandbox: attachment.containerId, ifName: attachment.ifName }, 'pod network torn down');
  }

  /** DELs the delegate could not deliver while we were away. */
  private async finishPendingDeletes(): Promise<void> {
    const dir = pendingDelDir(this.socketPath);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(dir, name);
      try {
        const note = JSON.parse(await readFile(path, 'utf8')) as DelegateRequest;
        const containerId = note.env.CNI_CONTAINERID ?? '';
        const ifName = note.env.CNI_IFNAME ?? '';
        const cached = await this.cachedFor(containerId, ifName);
        if (cached) {
          const netns = (await exists(cached.netns)) ? cached.netns : '';
          await this.del(cached, { containerId, ifName, netns, args: cached.args, capabilityArgs: cached.capabilityArgs });
        }
        await rm(path, { force: true });
      } catch (err) {
        this.log.warn({ note: path, err: (err as Error).message }, 'could not finish a DEL the delegate left for us; will retry on next start');
      }
    }
  }

  private serve(socket: Socket): void {
    const chunks: Buffer[] = [];
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => this.log.warn({ err: err.message }, 'delegate connection failed'));
    socket.on('end', () => {
      void this.answer(Buffer.concat(chunks).toString('utf8')).then((response) => socket.end(JSON.stringify(response)));
    });
  }

  private async answer(text: string): Promise<DelegateResponse> {
    let cniVersion = '1.0.0';
    try {
      const request = JSON.parse(text) as DelegateRequest;
      const conf = request.config.trim() ? (JSON.parse(request.config) as Record<string, unknown>) : {};
      if (isCniVersion(conf.cniVersion) && isSupportedCniVersion(conf.cniVersion)) cniVersion = conf.cniVersion;
      else if (conf.cniVersion !== undefined) throw new CniPluginError(CniErrorCode.incompatibleVersion, `cniVersion ${String(conf.cniVersion)} is not supported`);
      const stdout = await this.handle(request.env, cniVersion);
      return { exitCode: 0, stdout };
    } catch (err) {
      const cniErr = err instanceof CniPluginError ? err : new CniPluginError(err instanceof SyntaxError ? CniErrorCode.decodeFailure : NO_ERROR_OBJECT_CODE, (err as Error).message);
      this.log.warn({ err: cniErr.message }, 'delegate request failed');
      return { exitCode: 1, stdout: JSON.stringify(cniErr.toCniJson(cniVersion)) };
    }
  }

  private async handle(env: Record<string, string>, cniVersion: string): Promise<string> {
    const command = env.CNI_COMMAND;
    if (command === 'VERSION') return JSON.stringify({ cniVersion, supportedVersions: DELEGATE_SUPPORTED_VERSIONS });
    if (command === 'STATUS') {
      await this.client.statusNetworkList(this.network);
      return '';
    }
    if (command === 'GC') return '';
    const containerId = env.CNI_CONTAINERID;
    const ifName = env.CNI_IFNAME;
    if (!containerId || !ifName) throw new CniPluginError(CniErrorCode.invalidEnvironment, 'CNI_CONTAINERID and CNI_IFNAME are required');
    const args = [...parseCniArgs(env.CNI_ARGS)].filter(([k]) => k !== 'IgnoreUnknown');
    const netns = env.CNI_NETNS ?? '';
    // The request comes from the runtime's delegate, outside any context: its spans join the
    // RunPodSandbox or StopPodSandbox that is waiting for it, by pod uid.
    return joinSpanOf(new Map(args).get('K8S_POD_UID') ?? '', () => this.withLock(containerId, async () => {
      switch (command) {
        case 'ADD': {
          const pairs = new Map(args);
          const [ns, name, uid] = ['K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_UID'].map((k) => pairs.get(k) ?? '');
          if (!ns || !name) throw new CniPluginError(CniErrorCode.invalidEnvironment, 'CNI_ARGS must name the pod (K8S_POD_NAMESPACE, K8S_POD_NAME)');
          if (!netns) throw new CniPluginError(CniErrorCode.invalidEnvironment, 'CNI_NETNS is required for ADD');
          const pod = await this.opts.lookupPod(ns, name, uid);
          if (!pod) throw new CniPluginError(CniErrorCode.tryAgainLater, `pod ${ns}/${name} (uid ${uid || 'unknown'}) is not known to the agent`);
          // Host-network pods use the node's network: nothing to set up (runtimes skip CNI for them anyway).
          if (pod.spec?.hostNetwork) return JSON.stringify({ cniVersion, interfaces: [], ips: [], routes: [] });
          const capabilityArgs = podCapabilityArgs(pod);
          const started = Date.now();
          const result = await this.client.addNetworkList(this.network, { containerId, netns, ifName, args, capabilityArgs });
          const ips = ipsOfResult(result);
          this.record(containerId, ifName, ips);
          this.log.info({ pod: `${ns}/${name}`, uid, sandbox: containerId, ips, ms: Date.now() - started }, 'pod network set up');
          return JSON.stringify(resultAsVersion(result, cniVersion));
        }
        case 'CHECK': {
          const cached = await this.cachedFor(containerId, ifName);
          if (!cached) throw new CniPluginError(CniErrorCode.containerUnknown, `no attachment known for container ${containerId} interface ${ifName}`);
          await this.client.checkNetworkList(cached.config, { containerId, netns, ifName, args, capabilityArgs: cached.capabilityArgs });
          return '';
        }
        case 'DEL': {
          const cached = await this.cachedFor(containerId, ifName);
          await this.del(cached, { containerId, netns, ifName, args: cached?.args ?? args, capabilityArgs: cached?.capabilityArgs ?? {} });
          return '';
        }
        default:
          throw new CniPluginError(CniErrorCode.invalidEnvironment, `unknown CNI_COMMAND "${command ?? ''}"`);
      }
    }));
  }
}

async function exists(path: string): Promise<boolean> {
  if (!path) return false;
  return stat(path).then(() => true, () => false);
}
