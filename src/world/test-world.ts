// The test world: a real containerd (CRI) with runc and the CNI plugins, and two loopback OCI
// registries (one behind basic auth) serving images built here, all under one temporary root
// so nothing touches the host's /etc or /var. startTestWorld() brings it up; stop() takes
// everything down again (containers, shims, daemons, mounts, bridge, the root itself).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { CriClient } from '../cri/client.ts';
import { linkSystemCniPlugins, pickBridgeNetwork, renderBridgeConflist, type BridgeNetwork } from './cni-config.ts';
import { renderHostsToml, type ContainerdPaths } from './containerd-config.ts';
import { startContainerd } from './containerd.ts';
import type { Daemon } from './daemon.ts';
import { pushImage, startRegistry, type RegistryCredentials } from './registry.ts';
import { defaultWorldLogger, timedStep } from './step-log.ts';
import { buildBusyboxImage, buildGrpcHealthImage, buildPauseImage } from './test-images.ts';
import { waitFor } from './wait.ts';
import { assertWorldRoot, deleteLink, forceDeleteRuncContainers, forceTeardownSync, killPids, pidsReferencing, removeCniResultCache, removeShimSockets, shimPidsOf, unmountAllUnder, type WorldResources } from './teardown.ts';
import { abandonedWorlds, claimWorldRecord, removeWorldRecord } from './world-record.ts';

export type RuntimeHandlerName = 'runc' | 'runc-alt';

export interface TestWorldOptions {
  /** Directory for everything the world keeps; must be absent or empty. Default: a fresh temp dir. */
  root?: string;
  /** 'bridge' (default): a conflist with a bridge of this world's own. 'none': no CNI config,
   * so only host-network sandboxes run until someone writes one into cniConfDir. */
  cni?: 'bridge' | 'none';
  logger?: Logger;
}

export interface TestWorld {
  root: string;
  containerdEndpoint: string;
  /** '127.0.0.1:PORT', plain HTTP, no auth. */
  registry: string;
  authRegistry: { host: string } & RegistryCredentials;
  /** grpcHealth: a grpc.health.v1 server, args [PORT (50051)] [NOT_SERVING_FILE (/tmp/not-serving)]. */
  images: { busybox: string; pause: string; privateBusybox: string; grpcHealth: string };
  cniConfDir: string;
  cniBinDir: string;
  handlers: RuntimeHandlerName[];
  /** runc's state root per handler: `runc --root <dir>/k8s.io list` shows what that handler runs. */
  runtimeRoots: Record<RuntimeHandlerName, string>;
  /** The bridge network of cni: 'bridge' (undefined for 'none'). */
  network?: BridgeNetwork;
  /** A directory for pod logs (PodSandboxConfig.log_directory) inside the root. */
  podLogDir: string;
  /** Pids of the daemons the world started (containerd, registries). */
  daemonPids(): number[];
  /** Their log files, by daemon name (containerd, registry, auth-registry). They go with the
   * root on stop(); set MINI_KUBELET_WORLD_KEEP_LOGS=DIR to keep copies. */
  logFiles(): Record<string, string>;
  /** SIGKILL containerd, as a crash would: its shims and their containers keep running. */
  killContainerd(): Promise<void>;
  /** Starts containerd again on the same config, state and socket; resolves once its CRI
   * plugin reports the runtime (and network) ready. */
  restartContainerd(): Promise<void>;
  stop(): Promise<void>;
}

interface Teardown extends WorldResources {
  network?: BridgeNetwork;
  daemons: Daemon[];
}

const liveWorlds = new Set<Teardown>();

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last chance when the process exits with worlds still up: synchronous, so no CRI.
  process.on('exit', () => {
    for (const w of liveWorlds) {
      forceTeardownSync(w);
      removeWorldRecord(w);
    }
  });
}

/** Takes down worlds whose owner process died without stopping them. */
export function reapAbandonedWorlds(log?: Logger): number {
  const abandoned = abandonedWorlds();
  for (const record of abandoned) {
    log?.warn({ step: 'world.reap', root: record.root, ownerPid: record.ownerPid }, 'reaping a world whose owner died');
    forceTeardownSync(record);
    rmSync(record.recordFile, { force: true });
  }
  return abandoned.length;
}

/** Stops and removes every sandbox through CRI, so CNI DEL runs and releases IPs and veths. */
async function removeAllSandboxes(endpoint: string, log: Logger): Promise<number> {
  const cri = CriClient.connect(endpoint, { timeoutMs: 20_000 });
  try {
    const { items } = await cri.listPodSandbox({});
    await Promise.all(items.map(async (sandbox) => {
      try {
        await cri.stopPodSandbox({ podSandboxId: sandbox.id });
        await cri.removePodSandbox({ podSandboxId: sandbox.id });
      } catch (err) {
        log.warn({ step: 'remove-sandbox', sandbox: sandbox.id, err: (err as Error).message }, 'could not remove sandbox; forcing');
      }
    }));
    return items.length;
  } finally {
    cri.close();
  }
}

async function orderlyTeardown(w: Teardown, containerdDaemon: Daemon | undefined, endpoint: string, log: Logger): Promise<void> {
  if (containerdDaemon?.isRunning()) {
    await timedStep(log, 'world.remove-sandboxes', () => removeAllSandboxes(endpoint, log).catch((err) => {
      log.warn({ err: (err as Error).message }, 'CRI cleanup failed; forcing');
      return 0;
    }));
  }
  await timedStep(log, 'world.stop-daemons', () => Promise.all(w.daemons.map((d) => d.stop(5000))));
  await timedStep(log, 'world.kill-containers', async () => {
    // Normally empty by now: these are tasks CRI could not remove.
    const leftovers = w.runtimeRoots.flatMap(forceDeleteRuncContainers);
    killPids(shimPidsOf(w.socket));
    await waitFor(() => shimPidsOf(w.socket).length === 0, { timeoutMs: 10_000, what: 'shims to exit' });
    removeShimSockets(w.socket, leftovers);
    // Anything else still holding a path of ours (a helper a test started) would pin mounts.
    killPids(pidsReferencing(w.root));
  });
  await timedStep(log, 'world.unmount', () => {
    const left = unmountAllUnder(w.root);
    if (left.length) throw new Error(`mounts left under ${w.root}: ${left.join(', ')}`);
  });
  if (w.network) {
    const net = w.network;
    await timedStep(log, 'world.delete-bridge', () => {
      deleteLink(net.bridge);
      removeCniResultCache(net.networkName);
    }, { bridge: net.bridge });
  }
  const keepLogsIn = process.env.MINI_KUBELET_WORLD_KEEP_LOGS;
  if (keepLogsIn) keepDaemonLogs(w, keepLogsIn, log);
  await timedStep(log, 'world.remove-root', () => rmSync(w.root, { recursive: true, force: true }), { root: w.root });
  removeWorldRecord(w);
}

/** Copies the daemons' logs out of the root before it goes (for debugging a failed CI run). */
function keepDaemonLogs(w: Teardown, dir: string, log: Logger): void {
  const target = join(dir, basename(w.root));
  mkdirSync(target, { recursive: true });
  for (const d of w.daemons) {
    if (existsSync(d.logFile)) cpSync(d.logFile, join(target, `${d.name}.log`));
  }
  log.info({ step: 'world.keep-logs', dir: target }, 'kept daemon logs');
}

function prepareRoot(root: string | undefined): string {
  if (!root) return mkdtempSync(join(tmpdir(), 'mkw-'));
  assertWorldRoot(root);
  mkdirSync(root, { recursive: true });
  if (readdirSync(root).length) throw new Error(`test world root ${root} is not empty`);
  return root;
}

export async function startTestWorld(opts: TestWorldOptions = {}): Promise<TestWorld> {
  const log = (opts.logger ?? defaultWorldLogger()).child({ component: 'test-world' });
  const started = performance.now();
  await timedStep(log, 'world.reap-abandoned', () => reapAbandonedWorlds(log));
  const root = prepareRoot(opts.root);
  const paths: ContainerdPaths = {
    root: join(root, 'containerd', 'root'),
    state: join(root, 'containerd', 'state'),
    socket: join(root, 'containerd', 'containerd.sock'),
    optDir: join(root, 'containerd', 'opt'),
    cniConfDir: join(root, 'cni', 'net.d'),
    cniBinDir: join(root, 'cni', 'bin'),
    registryConfigDir: join(root, 'certs.d'),
    runtimeRoots: { runc: join(root, 'runc', 'runc'), 'runc-alt': join(root, 'runc', 'runc-alt') },
  };
  const resources: WorldResources = { root, socket: paths.socket, runtimeRoots: Object.values(paths.runtimeRoots) };
  let network: BridgeNetwork | undefined;
  if ((opts.cni ?? 'bridge') === 'bridge') {
    network = pickBridgeNetwork((net) => claimWorldRecord({ ...resources, bridge: net.bridge, networkName: net.networkName }));
  } else if (!claimWorldRecord(resources)) {
    throw new Error(`a world record for ${root} exists already`);
  }
  const teardown: Teardown = { ...resources, network, bridge: network?.bridge, networkName: network?.networkName, daemons: [] };
  installExitHook();
  liveWorlds.add(teardown);
  const endpoint = `unix://${paths.socket}`;
  let containerdDaemon: Daemon | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      try {
        await orderlyTeardown(teardown, containerdDaemon, endpoint, log);
      } finally {
        liveWorlds.delete(teardown);
      }
    })();
    return stopped;
  };

  try {
    const [busybox, pause, grpcHealth] = await timedStep(log, 'world.build-images', () => [buildBusyboxImage(), buildPauseImage(), buildGrpcHealthImage()] as const);
    const credentials: RegistryCredentials = { username: 'mkw-user', password: `pw-${Math.random().toString(36).slice(2, 10)}` };
    const [plain, auth] = await timedStep(log, 'world.start-registries', () => Promise.all([
      startRegistry(join(root, 'registry', 'plain'), 'registry'),
      startRegistry(join(root, 'registry', 'auth'), 'auth-registry', credentials),
    ]));
    teardown.daemons.push(plain.daemon, auth.daemon);
    const images = await timedStep(log, 'world.push-images', async () => {
      const [busyboxRef, pauseRef, privateRef, grpcHealthRef] = await Promise.all([
        pushImage(busybox.layoutDir, busybox.tag, plain.host, 'mini-kubelet/busybox'),
        pushImage(pause.layoutDir, pause.tag, plain.host, 'mini-kubelet/pause'),
        pushImage(busybox.layoutDir, busybox.tag, auth.host, 'mini-kubelet/private-busybox', credentials),
        pushImage(grpcHealth.layoutDir, grpcHealth.tag, plain.host, 'mini-kubelet/grpc-health'),
      ]);
      return { busybox: busyboxRef, pause: pauseRef, privateBusybox: privateRef, grpcHealth: grpcHealthRef };
    });

    await timedStep(log, 'world.write-configs', () => {
      for (const host of [plain.host, auth.host]) {
        mkdirSync(join(paths.registryConfigDir, host), { recursive: true });
        writeFileSync(join(paths.registryConfigDir, host, 'hosts.toml'), renderHostsToml(host));
      }
      mkdirSync(paths.cniConfDir, { recursive: true });
      linkSystemCniPlugins(paths.cniBinDir);
      if (network) writeFileSync(join(paths.cniConfDir, '10-world-bridge.conflist'), renderBridgeConflist(network, join(root, 'cni', 'ipam')));
    }, { bridge: network?.bridge, subnet: network?.subnet });

    const containerd = await timedStep(log, 'world.start-containerd', () => startContainerd(join(root, 'containerd'), paths, images.pause, network !== undefined));
    containerdDaemon = containerd.daemon;
    teardown.daemons.unshift(containerd.daemon);

    const podLogDir = join(root, 'pod-logs');
    mkdirSync(podLogDir, { recursive: true });
    log.info({ step: 'world.ready', ms: Math.round(performance.now() - started), root, registry: plain.host, authRegistry: auth.host, bridge: network?.bridge }, 'test world ready');
    return {
      root,
      containerdEndpoint: endpoint,
      registry: plain.host,
      authRegistry: { host: auth.host, ...credentials },
      images,
      cniConfDir: paths.cniConfDir,
      cniBinDir: paths.cniBinDir,
      handlers: ['runc', 'runc-alt'],
      runtimeRoots: paths.runtimeRoots,
      network,
      podLogDir,
      daemonPids: () => teardown.daemons.map((d) => d.pid),
      logFiles: () => Object.fromEntries(teardown.daemons.map((d) => [d.name, d.logFile])),
      async killContainerd() {
        const d = containerdDaemon;
        if (!d?.isRunning()) return;
        process.kill(d.pid, 'SIGKILL');
        await d.exited;
      },
      async restartContainerd() {
        if (containerdDaemon?.isRunning()) throw new Error('containerd is still running');
        const old = containerdDaemon;
        const again = await startContainerd(join(root, 'containerd'), paths, images.pause, network !== undefined);
        containerdDaemon = again.daemon;
        const at = old ? teardown.daemons.indexOf(old) : -1;
        if (at >= 0) teardown.daemons[at] = again.daemon;
        else teardown.daemons.unshift(again.daemon);
      },
      stop,
    };
  } catch (err) {
    await stop().catch((stopErr) => log.error({ err: stopErr }, 'teardown after failed start also failed'));
    throw err;
  }
}
