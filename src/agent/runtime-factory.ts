// Builds the PodRuntime the agent drives: a CRI client on --container-runtime-endpoint and
// the GenericRuntime manager over it, with this agent's network and device hooks, both reporting
// to the agent's metrics (CRI calls; pods and containers started, executor steps).
import type { Logger } from 'pino';
import { CriClient } from '../cri/client.ts';
import type { PodRuntime } from '../cri/runtime-manager/pod-runtime.ts';
import { createGenericRuntimeManager } from '../cri/runtime-manager/generic-runtime-manager.ts';
import type { SandboxNetwork } from '../cni/sandbox-network.ts';
import type { ContainerDevices } from '../device/container-devices.ts';
import type { AgentConfig } from './config/agent-config.ts';
import type { AgentMetrics } from './metrics/agent-metrics.ts';

export function createPodRuntime(config: AgentConfig, network: SandboxNetwork, devices: ContainerDevices, logger: Logger, metrics?: AgentMetrics, knownPodUids?: () => ReadonlySet<string>): PodRuntime {
  const runtime = CriClient.connect(config.containerRuntimeEndpoint, {
    imageEndpoint: config.imageServiceEndpoint,
    timeoutMs: config.runtimeRequestTimeoutMs,
    logger,
    ...(metrics ? { metrics } : {}),
  });
  return createGenericRuntimeManager({
    runtime,
    network,
    devices,
    rootDir: config.rootDir,
    podLogsDir: config.podLogsDir,
    allowPrivileged: config.allowPrivileged,
    logger,
    ...(metrics ? { metrics } : {}),
    ...(knownPodUids ? { knownPodUids } : {}),
  });
}
