// The agent's optional parts: pod networking in agent mode (the CNI network manager behind
// the delegate plugin) and the device plugin manager. Each falls back to the no-op
// implementation of its interface when it cannot start, and says why.
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { createAgentNetwork } from '../cni/agent-network.ts';
import { runtimeOwnedNetwork, type SandboxNetwork } from '../cni/sandbox-network.ts';
import { noDevices, type ContainerDevices } from '../device/container-devices.ts';
import { createDeviceManager, type ActivePod } from '../device/device-manager.ts';
import type { AgentConfig } from './config/agent-config.ts';

export interface Stoppable { stop(): Promise<void> }

export async function startNetwork(config: AgentConfig, lookupPod: (ns: string, name: string, uid: string) => Promise<V1Pod | undefined>, logger: Logger): Promise<{ network: SandboxNetwork; stop: () => Promise<void> }> {
  if (config.networkMode === 'runtime') return { network: runtimeOwnedNetwork, stop: async () => {} };
  const network = await createAgentNetwork({
    rootDir: config.rootDir,
    confDir: config.cniConfDir,
    binDirs: [config.cniBinDir],
    networkName: config.cniNetwork,
    lookupPod,
    logger,
  });
  logger.info({ socket: network.socketPath }, 'agent network mode: the delegate plugin hands CNI requests to this agent');
  return { network, stop: () => network.stop() };
}

export async function startDevices(config: AgentConfig, activePods: () => ActivePod[], onChange: () => void, logger: Logger): Promise<{ devices: ContainerDevices; stop: () => Promise<void>; reconcile?: (uids: Set<string>) => Promise<void> }> {
  try {
    const manager = await createDeviceManager({
      pluginDir: config.devicePluginDir ?? join(config.rootDir, 'device-plugins'),
      podResourcesSocket: join(config.rootDir, 'pod-resources', 'kubelet.sock'),
      activePods,
      logger,
    });
    manager.onChange(onChange);
    return { devices: manager, stop: () => manager.stop(), reconcile: (uids) => manager.reconcile(uids) };
  } catch (err) {
    logger.warn({ err: String(err) }, 'device plugin manager not started; no device plugins on this node');
    return { devices: noDevices, stop: async () => {} };
  }
}
