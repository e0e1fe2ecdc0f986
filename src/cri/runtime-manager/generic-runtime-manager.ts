// createGenericRuntimeManager: the PodRuntime the agent composes, on any CRI runtime.
// Decision (computePodActions) and execution (execute-pod-actions.ts and its steps) live in their own
// files; this one wires them to the CRI clients, the network and device lines, and keeps the
// two backoffs that outlive single syncs.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { CriClient } from '../client.ts';
import type { SandboxNetwork } from '../../cni/sandbox-network.ts';
import type { ContainerDevices } from '../../device/container-devices.ts';
import type { PodRuntime, RuntimeHealth, RuntimeInfo } from './pod-runtime.ts';
import { Backoff } from './backoff.ts';
import { parseResolvConf, type ResolvConf } from './dns.ts';
import { garbageCollect } from './garbage-collect.ts';
import { killPodWithResult, stopSandboxes } from './kill-step.ts';
import { TeardownRetries } from './teardown-retries.ts';
import type { PodRef } from '../../pod/pod-ref.ts';
import { getPodStatus, relist } from './observe.ts';
import { executePodActions } from './execute-pod-actions.ts';
import { execInContainer } from './exec-in-container.ts';
import { streamingUrl } from './streaming-url.ts';
import { listContainerUsage } from './container-stats.ts';
import { SyncResultBuilder } from './sync-result.ts';
import { noExecutorMetrics, type ExecutorDeps, type ExecutorMetrics } from './executor-deps.ts';

/** What the caller supplies; the manager adds the clocks, backoffs and resolv.conf it keeps. */
export type GenericRuntimeManagerOptions = Pick<ExecutorDeps, 'runtime' | 'network' | 'devices' | 'rootDir' | 'podLogsDir' | 'allowPrivileged' | 'logger'> & {
  /** Image service client when it differs from the runtime's (--image-service-endpoint). */
  image?: CriClient;
  clock?: () => number;
  /** Path of the node's resolv.conf for pod DNS (kubelet --resolv-conf); default /etc/resolv.conf. */
  resolvConf?: string;
  /** Pods and containers started, and each step's duration; default: not recorded. */
  metrics?: ExecutorMetrics;
  /** UIDs of the pods the agent knows now (its pod registry): a pod not among them whose sandbox
   * teardown failed is removed entirely once a retry succeeds. Default: the set the last
   * garbageCollect() was given. */
  knownPodUids?: () => ReadonlySet<string>;
  /** Backoff of the teardown retries (default 1 s doubling up to 30 s). */
  teardownRetry?: { initialMs?: number; maxMs?: number };
};

export function createGenericRuntimeManager(opts: GenericRuntimeManagerOptions): PodRuntime {
  const clock = opts.clock ?? Date.now;
  const deps: ExecutorDeps = {
    runtime: opts.runtime,
    image: opts.image ?? opts.runtime,
    network: opts.network,
    devices: opts.devices,
    rootDir: opts.rootDir,
    podLogsDir: opts.podLogsDir,
    allowPrivileged: opts.allowPrivileged,
    logger: opts.logger.child({ component: 'runtime-manager' }),
    clock,
    resolvConf: readResolvConf(opts.resolvConf ?? '/etc/resolv.conf', opts.logger),
    containerBackoff: new Backoff({ clock }),
    imageBackoff: new Backoff({ clock }),
    metrics: opts.metrics ?? noExecutorMetrics,
  };
  let lastKnown: ReadonlySet<string> | undefined;
  const knownPodUids = opts.knownPodUids ?? (() => lastKnown);
  deps.teardowns = new TeardownRetries({
    logger: deps.logger,
    ...opts.teardownRetry,
    retry: (ref, sandboxIds) => retryTeardown(deps, ref, sandboxIds, knownPodUids()),
  });

  return {
    async info(): Promise<RuntimeInfo> {
      // Quiet (trace), as the health check below: asked on every node status update.
      const v = await deps.runtime.version({ version: 'v1' }, { quiet: true });
      return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion, runtimeApiVersion: v.runtimeApiVersion };
    },
    async health(): Promise<RuntimeHealth> {
      try {
        const { status } = await deps.runtime.status({}, { quiet: true });
        const conditions = status?.conditions ?? [];
        const cond = (type: string) => conditions.find(c => c.type === type);
        const notReady = conditions.filter(c => !c.status).map(c => `${c.type}=false reason:${c.reason} message:${c.message}`);
        return { runtimeReady: cond('RuntimeReady')?.status === true, networkReady: cond('NetworkReady')?.status === true, message: notReady.join(', ') };
      } catch (err) {
        return { runtimeReady: false, networkReady: false, message: `container runtime is down: ${err instanceof Error ? err.message : String(err)}` };
      }
    },
    executePodActions: (pod, observed, ctx) => executePodActions(deps, pod, observed, ctx),
    async killPod(target, observed, gracePeriodSeconds, remove) {
      const result = new SyncResultBuilder();
      await killPodWithResult(deps, target, observed, { pod: target.pod, gracePeriodOverride: gracePeriodSeconds, remove }, result);
      return result.build();
    },
    execInContainer: (containerId, cmd, timeoutSeconds) => execInContainer(deps.runtime, containerId, cmd, timeoutSeconds),
    streamingUrl: (req) => streamingUrl(deps.runtime, req),
    getPodStatus: (uid, name, namespace, known) => getPodStatus(deps, uid, name, namespace, known),
    relist: () => relist(deps),
    stats: () => listContainerUsage(deps.runtime),
    garbageCollect: (known) => {
      lastKnown = known;
      return garbageCollect(deps, known);
    },
    close: () => deps.teardowns?.stop(),
  };
}

/** One teardown retry: a pod the agent still knows gets the failed sandboxes stopped again (its
 * pod worker removes them); a pod it no longer knows (or that is unknown: no set yet counts as
 * known) is stopped and removed entirely, as the garbage collector would. */
async function retryTeardown(deps: ExecutorDeps, ref: PodRef, sandboxIds: string[], known: ReadonlySet<string> | undefined): Promise<boolean> {
  const observed = await getPodStatus(deps, ref.uid, ref.name, ref.namespace);
  const result = new SyncResultBuilder();
  if (known && !known.has(ref.uid)) {
    if (!observed.sandboxes.length && !observed.containers.length) return true;
    await killPodWithResult(deps, ref, observed, { remove: true, gracePeriodOverride: 0 }, result);
  } else {
    const left = observed.sandboxes.filter((s) => sandboxIds.includes(s.id)).map((s) => s.id);
    if (!left.length) return true;
    await stopSandboxes(deps, ref, left, result);
  }
  return !result.failed;
}

function readResolvConf(path: string, logger: Logger): ResolvConf {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch (err) {
    logger.warn({ path, err: err instanceof Error ? err.message : String(err) }, 'cannot read resolv.conf; pods get no DNS servers from the node');
    return { servers: [], searches: [], options: [] };
  }
}
