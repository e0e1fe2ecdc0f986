// /configz: the configuration the agent runs with, as the kubelet answers it: one object under
// "kubeletconfig", with KubeletConfiguration (kubelet.config.k8s.io/v1beta1) field names and
// value forms (durations as Go prints them, "2m0s"). Only fields this agent honours are shown,
// with the values in effect after flags, the config file and defaults were merged.
import type { AgentConfig } from '../config/agent-config.ts';
import { goDuration } from '../../probe/go-text.ts';

export function kubeletConfigz(config: AgentConfig): { kubeletconfig: Record<string, unknown> } {
  const i = config.intervals;
  const kubeletconfig: Record<string, unknown> = {
    kind: 'KubeletConfiguration',
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    enableServer: true,
    ...(config.podManifestPath ? { staticPodPath: config.podManifestPath } : {}),
    podLogsDir: config.podLogsDir,
    syncFrequency: goDuration(i.resyncMs),
    fileCheckFrequency: goDuration(i.staticPodRescanMs),
    address: config.address,
    port: config.port,
    ...(config.tlsCertFile ? { tlsCertFile: config.tlsCertFile } : {}),
    ...(config.tlsPrivateKeyFile ? { tlsPrivateKeyFile: config.tlsPrivateKeyFile } : {}),
    authentication: {
      x509: config.authentication.x509.clientCAFile ? { clientCAFile: config.authentication.x509.clientCAFile } : {},
      webhook: { enabled: config.authentication.webhook.enabled, cacheTTL: goDuration(config.authentication.webhook.cacheTtlMs) },
      anonymous: { enabled: config.authentication.anonymous.enabled },
    },
    authorization: {
      mode: config.authorization.mode,
      webhook: {
        cacheAuthorizedTTL: goDuration(config.authorization.webhook.cacheAuthorizedTtlMs),
        cacheUnauthorizedTTL: goDuration(config.authorization.webhook.cacheUnauthorizedTtlMs),
      },
    },
    healthzPort: config.healthzPort,
    healthzBindAddress: config.healthzBindAddress,
    nodeStatusUpdateFrequency: goDuration(i.nodeStatusUpdateMs),
    nodeStatusReportFrequency: goDuration(i.nodeStatusReportMs),
    nodeLeaseDurationSeconds: i.leaseDurationSeconds,
    runtimeRequestTimeout: goDuration(config.runtimeRequestTimeoutMs),
    maxPods: config.maxPods,
    kubeAPIQPS: config.kubeAPIQPS,
    kubeAPIBurst: config.kubeAPIBurst,
    containerRuntimeEndpoint: config.containerRuntimeEndpoint,
    ...(config.imageServiceEndpoint ? { imageServiceEndpoint: config.imageServiceEndpoint } : {}),
    registerNode: config.kubeconfig !== undefined,
    ...(config.registerWithTaints.length ? { registerWithTaints: config.registerWithTaints } : {}),
    ...(config.allowedUnsafeSysctls.length ? { allowedUnsafeSysctls: config.allowedUnsafeSysctls } : {}),
  };
  return { kubeletconfig };
}
