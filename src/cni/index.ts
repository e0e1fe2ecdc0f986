// The CNI room's public surface, for src/agent/ and tests.
export { createAgentNetwork, DEFAULT_AGENT_SOCKET, type AgentNetwork, type AgentNetworkOptions } from './agent-network.ts';
export { CniClient, type CniClientOptions } from './cni-client.ts';
export { loadNetwork, loadNetworkConfigs, parseNetworkConfig, selectNetwork, type NetworkConfigList, type PluginConfig } from './config.ts';
export { CniConfigError, CniErrorCode, CniPluginError } from './errors.ts';
export { installDelegate, DELEGATE_PLUGIN_TYPE } from './install.ts';
export { podCniArgs, type CniAttachment } from './plugin-input.ts';
export { splitBinDirs } from './plugin-exec.ts';
export { podCapabilityArgs } from './pod-capabilities.ts';
export { ipsOfResult, type CniResult } from './result.ts';
export { runtimeOwnedNetwork, type SandboxNetwork, type SandboxNetworkTarget } from './sandbox-network.ts';
