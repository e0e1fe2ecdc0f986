// The agent's whole configuration, after flags and the KubeletConfiguration file are merged.
import type { V1Taint } from '@kubernetes/client-node';

export type NetworkMode = 'runtime' | 'agent';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface AgentIntervals {
  /** Lease renewal (kubelet: nodeLeaseDurationSeconds / 4 = 10 s). */
  leaseRenewMs: number;
  leaseDurationSeconds: number;
  /** How often node status is computed and compared (kubelet nodeStatusUpdateFrequency 10 s). */
  nodeStatusUpdateMs: number;
  /** Node status is posted at least this often even when unchanged (kubelet: 5 min). */
  nodeStatusReportMs: number;
  /** PLEG relist period (kubelet: 1 s). */
  plegRelistMs: number;
  /** Static pod directory rescan (kubelet fileCheckFrequency: 20 s). */
  staticPodRescanMs: number;
  /** Container and sandbox garbage collection (kubelet: 1 min). */
  garbageCollectMs: number;
  /** A pod with nothing to wait for is still synced this often (kubelet syncFrequency: 1 min). */
  resyncMs: number;
  /** First retry delay of a failed sync; doubles up to syncErrorBackoffMaxMs. */
  syncErrorBackoffMs: number;
  /** Kubelet requeues failed pod syncs after 10 s. */
  syncErrorBackoffMaxMs: number;
}

export interface AgentConfig {
  /** Absent: standalone mode, static pods only. */
  kubeconfig?: string;
  nodeName: string;
  containerRuntimeEndpoint: string;
  imageServiceEndpoint?: string;
  rootDir: string;
  podManifestPath?: string;
  podLogsDir: string;
  nodeLabels: Record<string, string>;
  registerWithTaints: V1Taint[];
  maxPods: number;
  nodeIP?: string;
  /** Node API server (kubelet's 10250) port and bind address; port 0 = ephemeral. */
  port: number;
  address: string;
  healthzPort: number;
  healthzBindAddress: string;
  allowPrivileged: boolean;
  logLevel: LogLevel;
  networkMode: NetworkMode;
  cniConfDir: string;
  cniBinDir: string;
  cniNetwork?: string;
  /** Default <rootDir>/device-plugins. */
  devicePluginDir?: string;
  runtimeRequestTimeoutMs: number;
  /** Pod syncs running at once across pods. */
  maxParallelSyncs: number;
  intervals: AgentIntervals;
}

export const defaultIntervals: AgentIntervals = {
  leaseRenewMs: 10_000,
  leaseDurationSeconds: 40,
  nodeStatusUpdateMs: 10_000,
  nodeStatusReportMs: 5 * 60_000,
  plegRelistMs: 1_000,
  staticPodRescanMs: 20_000,
  garbageCollectMs: 60_000,
  resyncMs: 60_000,
  syncErrorBackoffMs: 1_000,
  syncErrorBackoffMaxMs: 10_000,
};

export const defaultConfig: Omit<AgentConfig, 'nodeName'> = {
  containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
  rootDir: '/var/lib/mini-kubelet',
  podLogsDir: '/var/log/pods',
  nodeLabels: {},
  registerWithTaints: [],
  maxPods: 110,
  port: 10250,
  address: '0.0.0.0',
  healthzPort: 10248,
  healthzBindAddress: '127.0.0.1',
  allowPrivileged: false,
  logLevel: 'info',
  networkMode: 'runtime',
  cniConfDir: '/etc/cni/net.d',
  cniBinDir: '/opt/cni/bin',
  runtimeRequestTimeoutMs: 2 * 60_000,
  maxParallelSyncs: 8,
  intervals: defaultIntervals,
};
