// The agent configuration the in-process integration tests share: the simulated runtime at
// `endpoint`, everything under `dir`, ephemeral ports, client certificates from `dir/client-ca.crt`,
// and short intervals so a test sees a change within a second.
import { join } from 'node:path';
import { defaultConfig, type AgentConfig } from '../../src/agent/config/agent-config.ts';

export function simAgentConfig(dir: string, nodeName: string, endpoint: string, over: Partial<AgentConfig> = {}): AgentConfig {
  return {
    ...defaultConfig,
    nodeName,
    containerRuntimeEndpoint: endpoint,
    runtimeRequestTimeoutMs: 10_000,
    rootDir: join(dir, 'root'),
    podLogsDir: join(dir, 'logs'),
    port: 0,
    healthzPort: 0,
    address: '127.0.0.1',
    authentication: { ...defaultConfig.authentication, x509: { clientCAFile: join(dir, 'client-ca.crt') } },
    intervals: { ...defaultConfig.intervals, leaseRenewMs: 500, nodeStatusUpdateMs: 500, plegRelistMs: 200, eventedPlegRelistMs: 200, staticPodRescanMs: 500, syncErrorBackoffMs: 200 },
    ...over,
  };
}
