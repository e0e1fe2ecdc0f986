// Registers this machine as a Node, keeps its Lease fresh, and reports its status when it
// changes (and at least every nodeStatusReportMs), as the kubelet's node status loop does.
import type { V1Node, V1NodeStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodRuntime, RuntimeHealth, RuntimeInfo } from '../../cri/runtime-manager/pod-runtime.ts';
import type { ContainerDevices } from '../../device/container-devices.ts';
import type { AgentConfig } from '../config/agent-config.ts';
import { statusOf, type KubeApi } from '../api/kube-api.ts';
import { runPeriodically } from '../util/periodic.ts';
import { readMachineFacts, type MachineFacts } from './machine-facts.ts';
import { buildNodeObject, buildNodeStatus, nodeStatusChanged } from './node-object.ts';
import { keepLeaseRenewed, renewLease } from './node-lease.ts';
import { watchRuntimeHealth } from './runtime-health-watch.ts';
import { withApiTimes } from '../api/api-time.ts';

export interface NodeControllerDeps {
  api: KubeApi;
  runtime: PodRuntime;
  devices: ContainerDevices;
  config: AgentConfig;
  logger: Logger;
  /** The node API server's actual port (it may have been 0 = ephemeral). */
  kubeletPort: () => number;
  now?: () => Date;
}

export interface NodeController {
  /** The registered Node (labels, capacity, allocatable) as last posted. */
  current(): V1Node;
  /** Report status now (e.g. device plugin resources changed), not at the next tick. */
  refresh(): void;
  stop(): Promise<void>;
}

async function safely<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch {
    return undefined;
  }
}

/** Local view of the node, without an API server (standalone mode still admits pods against it). */
export async function computeLocalNode(deps: Omit<NodeControllerDeps, 'api'>, facts: MachineFacts = readMachineFacts(deps.config.rootDir)): Promise<V1Node> {
  const node = buildNodeObject({ nodeName: deps.config.nodeName, labels: deps.config.nodeLabels, taints: deps.config.registerWithTaints }, facts);
  node.status = await computeStatus(deps, facts, undefined);
  return node;
}

async function computeStatus(deps: Omit<NodeControllerDeps, 'api'>, facts: MachineFacts, previous: V1NodeStatus | undefined): Promise<V1NodeStatus> {
  const [runtimeInfo, runtimeHealth] = await Promise.all([
    safely<RuntimeInfo>(deps.runtime.info()),
    safely<RuntimeHealth>(deps.runtime.health()),
  ]);
  return buildNodeStatus({
    nodeName: deps.config.nodeName,
    facts,
    nodeIP: deps.config.nodeIP,
    maxPods: deps.config.maxPods,
    kubeletPort: deps.kubeletPort(),
    runtimeInfo,
    runtimeHealth,
    extendedResources: deps.devices.resources(),
    previousConditions: previous?.conditions,
    now: (deps.now ?? (() => new Date()))(),
  });
}

export async function startNodeController(deps: NodeControllerDeps): Promise<NodeController> {
  const { api, config, logger } = deps;
  const log = logger;
  const now = deps.now ?? (() => new Date());
  const facts = readMachineFacts(config.rootDir);

  let node = await registerNode();
  let lastPosted: V1NodeStatus | undefined;
  let lastPostedAt = 0;

  async function registerNode(): Promise<V1Node> {
    const wanted = buildNodeObject({ nodeName: config.nodeName, labels: config.nodeLabels, taints: config.registerWithTaints }, facts);
    const existing = await api.getNode(config.nodeName);
    if (existing) {
      log.info('node already registered');
      return existing;
    }
    try {
      const created = await api.createNode(wanted);
      log.info({ labels: created.metadata?.labels }, 'registered node');
      return created;
    } catch (err) {
      if (statusOf(err) === 409) return (await api.getNode(config.nodeName))!;
      throw err;
    }
  }

  async function reportStatus(): Promise<void> {
    const status = await computeStatus(deps, facts, lastPosted);
    const due = Date.now() - lastPostedAt >= config.intervals.nodeStatusReportMs;
    if (!nodeStatusChanged(lastPosted, status) && !due) return;
    try {
      node = await api.patchNodeStatus(config.nodeName, withApiTimes(status));
    } catch (err) {
      // The Node was deleted behind our back: register again, as the kubelet does.
      if (statusOf(err) !== 404) throw err;
      node = await registerNode();
      node = await api.patchNodeStatus(config.nodeName, withApiTimes(status));
    }
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    if (lastPosted?.conditions?.find((c) => c.type === 'Ready')?.status !== ready?.status) {
      log.info({ ready: ready?.status, reason: ready?.reason, message: ready?.message }, 'node readiness');
    }
    lastPosted = status;
    lastPostedAt = Date.now();
  }

  // One report at a time: a periodic one computed while the runtime was down must not land
  // after the refresh that saw it back.
  let reporting: Promise<void> = Promise.resolve();
  const report = (): Promise<void> => {
    const next = reporting.then(reportStatus);
    reporting = next.catch(() => {});
    return next;
  };
  const refresh = () => void report().catch((err) => log.warn({ err: String(err) }, 'node status report failed'));

  await report().catch((err) => log.warn({ err }, 'first node status report failed'));
  const stopStatus = runPeriodically('node-status', config.intervals.nodeStatusUpdateMs, report, log, false);
  // The runtime going down or coming back is posted at once, not at the next status period
  // (the kubelet's runtime state check); checked at the PLEG's pace, since CRI Status is cheap.
  const stopHealthWatch = watchRuntimeHealth(deps.runtime, refresh, log, { periodMs: config.intervals.plegRelistMs });
  const stopLease = keepLeaseRenewed(() => renewLease(api, node, config.intervals.leaseDurationSeconds, now), { intervalMs: config.intervals.leaseRenewMs }, log);

  return {
    current: () => node,
    refresh,
    async stop() {
      await Promise.all([stopStatus(), stopLease(), stopHealthWatch()]);
    },
  };
}
