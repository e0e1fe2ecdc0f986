// RuntimeService of the simulated runtime: maps each RPC onto the sandbox and container
// stores and shapes the answers as containerd does.
import type { RuntimeServiceHandlers } from '../generated/runtime/v1/RuntimeService.ts';
import type { ContainerStatus } from '../generated/runtime/v1/ContainerStatus.ts';
import type { Container } from '../generated/runtime/v1/Container.ts';
import type { PodSandbox } from '../generated/runtime/v1/PodSandbox.ts';
import type { PodSandboxStatus } from '../generated/runtime/v1/PodSandboxStatus.ts';
import { status } from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { nowNs } from './clock.ts';
import type { ContainerStore, SimContainer } from './containers.ts';
import { SimError } from './errors.ts';
import { planExec, type ProcessEnv } from './process.ts';
import type { SimStreamingServer } from './streaming-server.ts';
import { simContainerStats } from './usage.ts';
import type { SandboxStore, SimSandbox } from './sandboxes.ts';
import type { SimState } from './state.ts';
import { unary, type HandlerContext } from './unary.ts';

export const SIM_RUNTIME_NAME = 'mini-kubelet-sim';
export const SIM_RUNTIME_VERSION = '0.1.0';

export interface RuntimeServiceDeps extends HandlerContext {
  sandboxes: SandboxStore;
  containers: ContainerStore;
  runtimeHandlers: readonly string[];
  conditions: SimState['conditions'];
  streaming: SimStreamingServer;
  /** GetContainerEvents (event-stream.ts). */
  containerEvents: RuntimeServiceHandlers['GetContainerEvents'];
}

export function runtimeServiceHandlers(deps: RuntimeServiceDeps): RuntimeServiceHandlers {
  const { sandboxes, containers } = deps;
  /** What a command played in the container sees: the pod's hostname and the container's env. */
  const processEnvOf = (c: SimContainer): ProcessEnv => {
    const sandbox = sandboxes.find(c.sandboxId);
    return { hostname: sandbox?.config.hostname || sandbox?.metadata.name || 'localhost', env: c.config.envs ?? [] };
  };
  const runningContainer = (id: string) => {
    const c = containers.get(id);
    if (c.state !== 'CONTAINER_RUNNING') throw new SimError(status.UNKNOWN, `container ${c.id} is not running (state: ${c.state})`);
    return c;
  };
  return {
    Version: unary(deps, 'Version', () => ({
      version: '0.1.0',
      runtimeName: SIM_RUNTIME_NAME,
      runtimeVersion: SIM_RUNTIME_VERSION,
      runtimeApiVersion: 'v1',
    })),

    Status: unary(deps, 'Status', () => ({
      status: {
        conditions: Object.entries(deps.conditions).map(([type, c]) => ({ type, ...c })),
      },
      info: {},
      runtimeHandlers: deps.runtimeHandlers.map((name) => ({ name, features: { recursiveReadOnlyMounts: false, userNamespaces: false } })),
    })),

    RunPodSandbox: unary(deps, 'RunPodSandbox', (req) => ({ podSandboxId: sandboxes.run(req.config, req.runtimeHandler).id })),

    StopPodSandbox: unary(deps, 'StopPodSandbox', async (req) => {
      const sandbox = sandboxes.get(req.podSandboxId);
      // containerd kills what still runs without a grace period: the kubelet stopped
      // containers gracefully before, if it wanted that.
      await Promise.all(containers.inSandbox(sandbox.id).map((c) => containers.stop(c, 0)));
      sandboxes.markStopped(sandbox);
      return {};
    }),

    RemovePodSandbox: unary(deps, 'RemovePodSandbox', (req) => {
      const sandbox = sandboxes.find(req.podSandboxId);
      if (!sandbox) return {}; // already gone: idempotent
      for (const c of containers.inSandbox(sandbox.id)) containers.remove(c.id);
      sandboxes.delete(sandbox);
      return {};
    }),

    PodSandboxStatus: unary(deps, 'PodSandboxStatus', (req) => ({
      status: sandboxStatus(sandboxes.get(req.podSandboxId)),
      info: {},
      containersStatuses: [],
      timestamp: nowNs(),
    })),

    ListPodSandbox: unary(deps, 'ListPodSandbox', (req) => ({ items: sandboxes.list(req.filter).map(sandboxItem) })),

    CreateContainer: unary(deps, 'CreateContainer', (req) => ({ containerId: containers.create(req.podSandboxId, req.config).id })),

    StartContainer: unary(deps, 'StartContainer', async (req) => {
      await containers.start(req.containerId);
      return {};
    }),

    StopContainer: unary(deps, 'StopContainer', async (req) => {
      await containers.stop(containers.get(req.containerId), req.timeout);
      return {};
    }),

    RemoveContainer: unary(deps, 'RemoveContainer', (req) => {
      containers.remove(req.containerId);
      return {};
    }),

    ListContainers: unary(deps, 'ListContainers', (req) => ({ containers: containers.list(req.filter).map(containerItem) })),

    ContainerStatus: unary(deps, 'ContainerStatus', (req) => ({ status: containerStatus(containers.get(req.containerId)), info: {} })),

    UpdateContainerResources: unary(deps, 'UpdateContainerResources', (req) => {
      containers.updateResources(req.containerId, req.linux);
      return {};
    }),

    ListContainerStats: unary(deps, 'ListContainerStats', (req) => {
      const f = req.filter;
      const now = nowNs();
      const listed = containers.list(f ? { id: f.id, podSandboxId: f.podSandboxId, labelSelector: f.labelSelector, state: null } : null);
      return { stats: listed.map((c) => simContainerStats(c, now)) };
    }),

    // Sessions on the simulated streaming server (streaming-server.ts): a scripted shell.
    Exec: unary(deps, 'Exec', (req) => {
      const c = runningContainer(req.containerId);
      return { url: deps.streaming.register({ kind: 'exec', cmd: req.cmd, tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, running: () => c.state === 'CONTAINER_RUNNING', env: processEnvOf(c) }) };
    }),
    Attach: unary(deps, 'Attach', (req) => {
      const c = runningContainer(req.containerId);
      return { url: deps.streaming.register({ kind: 'attach', tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, running: () => c.state === 'CONTAINER_RUNNING' }) };
    }),
    PortForward: unary(deps, 'PortForward', (req) => {
      sandboxes.get(req.podSandboxId);
      return { url: deps.streaming.register({ kind: 'portforward', ports: req.port }) };
    }),

    GetContainerEvents: deps.containerEvents,

    ExecSync: unary(deps, 'ExecSync', async (req) => {
      const c = containers.get(req.containerId);
      if (c.state !== 'CONTAINER_RUNNING') {
        throw new SimError(status.UNKNOWN, `container "${c.id}" is in ${c.state} state, not running`);
      }
      const plan = planExec(req.cmd, processEnvOf(c));
      const runsMs = plan.exit?.afterMs ?? 0;
      if (req.timeout > 0 && runsMs > req.timeout * 1000) {
        await sleep(req.timeout * 1000);
        throw new SimError(status.DEADLINE_EXCEEDED, `command "${req.cmd.join(' ')}" timed out after ${req.timeout}s`);
      }
      if (runsMs > 0) await sleep(runsMs);
      return {
        stdout: Buffer.from(plan.stdout.map((l) => `${l}\n`).join('')),
        stderr: Buffer.from(plan.stderr.map((l) => `${l}\n`).join('')),
        exitCode: plan.exit?.code ?? 0,
      };
    }),
  };
}

function sandboxItem(s: SimSandbox): PodSandbox {
  return {
    id: s.id,
    metadata: s.metadata,
    state: s.state,
    createdAt: s.createdAt,
    labels: s.config.labels,
    annotations: s.config.annotations,
    runtimeHandler: s.runtimeHandler,
  };
}

export function sandboxStatus(s: SimSandbox): PodSandboxStatus {
  return {
    ...sandboxItem(s),
    network: { ip: s.ip, additionalIps: [] },
    linux: { namespaces: { options: s.config.linux?.securityContext?.namespaceOptions ?? { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
}

function containerItem(c: SimContainer): Container {
  return {
    id: c.id,
    podSandboxId: c.sandboxId,
    metadata: c.metadata,
    image: c.config.image,
    imageRef: c.image.id,
    state: c.state,
    createdAt: c.createdAt,
    labels: c.config.labels,
    annotations: c.config.annotations,
    imageId: c.image.id,
  };
}

export function containerStatus(c: SimContainer): ContainerStatus {
  return {
    id: c.id,
    metadata: c.metadata,
    state: c.state,
    createdAt: c.createdAt,
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
    exitCode: c.exitCode,
    image: { image: c.image.repoTags[0] ?? c.config.image?.image ?? '', annotations: c.config.image?.annotations ?? {} },
    imageRef: c.image.repoDigests[0] ?? c.image.id,
    reason: c.reason,
    message: c.message,
    labels: c.config.labels,
    annotations: c.config.annotations,
    mounts: c.config.mounts,
    logPath: c.logPath,
    resources: c.resources ? { linux: c.resources } : null,
    imageId: c.image.id,
  };
}
