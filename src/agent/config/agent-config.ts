// The agent's whole configuration, after flags and the KubeletConfiguration file are merged.
import type { V1Taint } from '@kubernetes/client-node';

export type NetworkMode = 'runtime' | 'agent';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
/** --log-format / --logging-format / logging.format; auto: text on a terminal, else JSON. */
export type LogFormat = 'auto' | 'json' | 'text';
export type AuthorizationMode = 'Webhook' | 'AlwaysAllow';
export const authorizationModes: AuthorizationMode[] = ['Webhook', 'AlwaysAllow'];

/** Who may call the node API (KubeletConfiguration `authentication`, same shape). */
export interface NodeApiAuthentication {
  /** Client certificates signed by a CA in this PEM bundle authenticate (CN = user, O = groups). */
  x509: { clientCAFile?: string };
  /** Bearer tokens are checked with a TokenReview on the API server; answers are cached. */
  webhook: { enabled: boolean; cacheTtlMs: number };
  /** Requests with no credentials at all are system:anonymous instead of 401. */
  anonymous: { enabled: boolean };
}

/** What an authenticated caller may do (KubeletConfiguration `authorization`, same shape). */
export interface NodeApiAuthorization {
  /** Webhook: a SubjectAccessReview on the API server per request; AlwaysAllow: none. */
  mode: AuthorizationMode;
  webhook: { cacheAuthorizedTtlMs: number; cacheUnauthorizedTtlMs: number };
}

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
  /** The relist period while the runtime streams container events (evented PLEG): only a safety
   * net then, as each event wakes its pod at once (kubelet: 300 s). */
  eventedPlegRelistMs: number;
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
  /** TLS bootstrap: when kubeconfig does not exist (or its certificate expired), get a client
   * certificate by CSR with these credentials (a bootstrap token) and write kubeconfig. */
  bootstrapKubeconfig?: string;
  /** Where issued certificates are kept (kubelet --cert-dir; default <rootDir>/pki). */
  certDir?: string;
  /** Renew the client certificate by CSR before it expires (kubelet --rotate-certificates). */
  rotateCertificates: boolean;
  /** Get the node API's serving certificate by CSR (signer kubernetes.io/kubelet-serving) and
   * renew it (kubelet --rotate-server-certificates / serverTLSBootstrap). */
  rotateServerCertificates: boolean;
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
  /** The node API's serving certificate and key (PEM files); absent: self-signed under <rootDir>/pki. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  authentication: NodeApiAuthentication;
  authorization: NodeApiAuthorization;
  healthzPort: number;
  healthzBindAddress: string;
  allowPrivileged: boolean;
  /** Sysctls (or prefixes ending in *) pods may set beyond the safe set; each known to be namespaced. */
  allowedUnsafeSysctls: string[];
  logLevel: LogLevel;
  logFormat: LogFormat;
  networkMode: NetworkMode;
  cniConfDir: string;
  cniBinDir: string;
  cniNetwork?: string;
  /** Default <rootDir>/device-plugins. */
  devicePluginDir?: string;
  runtimeRequestTimeoutMs: number;
  /** Pod syncs running at once across pods. */
  maxParallelSyncs: number;
  /** Requests a second to the API server, and how many may go at once after a quiet spell
   * (kubelet kubeAPIQPS / kubeAPIBurst; 0 means client-go's defaults, 5 and 10). */
  kubeAPIQPS: number;
  kubeAPIBurst: number;
  intervals: AgentIntervals;
  /** Spans to an OTLP collector (KubeletConfiguration `tracing`; --tracing-endpoint). */
  tracing: { endpoint?: string; samplingRatePerMillion: number };
  /** Keep recent pods' spans for the node API's timeline views (--pod-timelines, default true). */
  podTimelines: boolean;
}

export const defaultIntervals: AgentIntervals = {
  leaseRenewMs: 10_000,
  leaseDurationSeconds: 40,
  nodeStatusUpdateMs: 10_000,
  nodeStatusReportMs: 5 * 60_000,
  plegRelistMs: 1_000,
  eventedPlegRelistMs: 300_000,
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
  rotateCertificates: false,
  rotateServerCertificates: false,
  nodeLabels: {},
  registerWithTaints: [],
  maxPods: 110,
  port: 10250,
  address: '0.0.0.0',
  // KubeletConfiguration v1beta1's defaults: no anonymous access, tokens and every request
  // checked with the API server.
  authentication: {
    x509: {},
    webhook: { enabled: true, cacheTtlMs: 2 * 60_000 },
    anonymous: { enabled: false },
  },
  authorization: {
    mode: 'Webhook',
    webhook: { cacheAuthorizedTtlMs: 5 * 60_000, cacheUnauthorizedTtlMs: 30_000 },
  },
  healthzPort: 10248,
  healthzBindAddress: '127.0.0.1',
  allowPrivileged: false,
  allowedUnsafeSysctls: [],
  logLevel: 'info',
  logFormat: 'auto',
  networkMode: 'runtime',
  cniConfDir: '/etc/cni/net.d',
  cniBinDir: '/opt/cni/bin',
  runtimeRequestTimeoutMs: 2 * 60_000,
  // Pod syncs at once. The kubelet has no bound (a goroutine per pod); 8 queued a 5,000-pod start
  // behind each other, and every deletion held a slot through its grace period.
  maxParallelSyncs: 64,
  // The kubelet's defaults since 1.27.
  kubeAPIQPS: 50,
  kubeAPIBurst: 100,
  intervals: defaultIntervals,
  // Every trace: with an endpoint given, all of it is wanted (the kubelet's unset field samples nothing).
  tracing: { samplingRatePerMillion: 1_000_000 },
  podTimelines: true,
};
