// Merge order, as the kubelet: defaults, then the --config file, then flags on the command line.
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.ts';
import { authorizationModes, defaultConfig, type AgentConfig, type AuthorizationMode, type LogLevel } from './agent-config.ts';
import { parseKubeletConfigFile } from './kubelet-config-file.ts';
import { levelForVerbosity, parseBoolean, parseDuration, parseInteger, parseLabels, parseLogFormat, parseTaints, parseTracingEndpoint, parseUnsafeSysctls } from './value-parsers.ts';

/** Flag values exactly as commander hands them over (strings; booleans for switches). */
export interface AgentFlags {
  config?: string;
  kubeconfig?: string;
  bootstrapKubeconfig?: string;
  certDir?: string;
  rotateCertificates?: boolean | string;
  rotateServerCertificates?: boolean | string;
  hostnameOverride?: string;
  containerRuntimeEndpoint?: string;
  imageServiceEndpoint?: string;
  rootDir?: string;
  podManifestPath?: string;
  podLogsDir?: string;
  nodeLabels?: string;
  registerWithTaints?: string;
  maxPods?: string;
  nodeIp?: string;
  port?: string;
  address?: string;
  healthzPort?: string;
  allowPrivileged?: boolean;
  /** Comma-separated; the flag may be repeated (commander collects). */
  allowedUnsafeSysctls?: string[];
  v?: string;
  logLevel?: string;
  /** json or text; without it, text on a terminal. */
  logFormat?: string;
  /** The kubelet's name for --log-format. */
  loggingFormat?: string;
  networkMode?: string;
  cniConfDir?: string;
  cniBinDir?: string;
  cniNetwork?: string;
  devicePluginDir?: string;
  runtimeRequestTimeout?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  /** `--flag` alone is true; `--flag=false` comes as the string. */
  authenticationTokenWebhook?: boolean | string;
  authenticationTokenWebhookCacheTtl?: string;
  anonymousAuth?: boolean | string;
  authorizationMode?: string;
  authorizationWebhookCacheAuthorizedTtl?: string;
  authorizationWebhookCacheUnauthorizedTtl?: string;
  kubeApiQps?: string;
  kubeApiBurst?: string;
  /** host:port of an OTLP/gRPC collector. */
  tracingEndpoint?: string;
  /** `--pod-timelines` alone is true; `--pod-timelines=false` comes as the string. */
  podTimelines?: boolean | string;
}

const logLevels: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface ResolvedConfig {
  config: AgentConfig;
  /** KubeletConfiguration fields that were accepted but have no effect here. */
  ignoredFileFields: string[];
}

export function resolveAgentConfig(flags: AgentFlags, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): ResolvedConfig {
  const c: AgentConfig = { ...structuredClone(defaultConfig), nodeName: '' };
  let ignored: string[] = [];
  if (flags.config !== undefined) {
    let text: string;
    try {
      text = readFile(flags.config);
    } catch (err) {
      throw new ConfigError('--config', `cannot read ${flags.config}: ${(err as Error).message}`);
    }
    const f = parseKubeletConfigFile(text, flags.config);
    ignored = f.ignored;
    if (f.maxPods !== undefined) c.maxPods = f.maxPods;
    if (f.staticPodPath !== undefined) c.podManifestPath = f.staticPodPath;
    if (f.healthzPort !== undefined) c.healthzPort = f.healthzPort;
    if (f.healthzBindAddress !== undefined) c.healthzBindAddress = f.healthzBindAddress;
    if (f.port !== undefined) c.port = f.port;
    if (f.address !== undefined) c.address = f.address;
    if (f.registerWithTaints !== undefined) c.registerWithTaints = f.registerWithTaints;
    if (f.runtimeRequestTimeoutMs !== undefined) c.runtimeRequestTimeoutMs = f.runtimeRequestTimeoutMs;
    if (f.containerRuntimeEndpoint !== undefined) c.containerRuntimeEndpoint = f.containerRuntimeEndpoint;
    if (f.imageServiceEndpoint !== undefined) c.imageServiceEndpoint = f.imageServiceEndpoint;
    if (f.podLogsDir !== undefined) c.podLogsDir = f.podLogsDir;
    if (f.nodeStatusUpdateMs !== undefined) c.intervals.nodeStatusUpdateMs = f.nodeStatusUpdateMs;
    if (f.nodeStatusReportMs !== undefined) c.intervals.nodeStatusReportMs = f.nodeStatusReportMs;
    if (f.nodeLeaseDurationSeconds !== undefined) {
      c.intervals.leaseDurationSeconds = f.nodeLeaseDurationSeconds;
      c.intervals.leaseRenewMs = (f.nodeLeaseDurationSeconds * 1000) / 4;
    }
    if (f.fileCheckMs !== undefined) c.intervals.staticPodRescanMs = f.fileCheckMs;
    if (f.syncMs !== undefined) c.intervals.resyncMs = f.syncMs;
    if (f.verbosity !== undefined) c.logLevel = levelForVerbosity('logging.verbosity', String(f.verbosity));
    if (f.logFormat !== undefined) c.logFormat = f.logFormat;
    if (f.tlsCertFile !== undefined) c.tlsCertFile = f.tlsCertFile;
    if (f.tlsPrivateKeyFile !== undefined) c.tlsPrivateKeyFile = f.tlsPrivateKeyFile;
    if (f.clientCAFile !== undefined) c.authentication.x509.clientCAFile = f.clientCAFile;
    if (f.authenticationWebhookEnabled !== undefined) c.authentication.webhook.enabled = f.authenticationWebhookEnabled;
    if (f.authenticationWebhookCacheTtlMs !== undefined) c.authentication.webhook.cacheTtlMs = f.authenticationWebhookCacheTtlMs;
    if (f.anonymousAuthEnabled !== undefined) c.authentication.anonymous.enabled = f.anonymousAuthEnabled;
    if (f.authorizationMode !== undefined) c.authorization.mode = f.authorizationMode;
    if (f.authorizationWebhookCacheAuthorizedTtlMs !== undefined) c.authorization.webhook.cacheAuthorizedTtlMs = f.authorizationWebhookCacheAuthorizedTtlMs;
    if (f.authorizationWebhookCacheUnauthorizedTtlMs !== undefined) c.authorization.webhook.cacheUnauthorizedTtlMs = f.authorizationWebhookCacheUnauthorizedTtlMs;
    if (f.allowedUnsafeSysctls !== undefined) c.allowedUnsafeSysctls = f.allowedUnsafeSysctls;
    if (f.rotateCertificates !== undefined) c.rotateCertificates = f.rotateCertificates;
    if (f.serverTLSBootstrap !== undefined) c.rotateServerCertificates = f.serverTLSBootstrap;
    if (f.kubeAPIQPS !== undefined) c.kubeAPIQPS = f.kubeAPIQPS;
    if (f.kubeAPIBurst !== undefined) c.kubeAPIBurst = f.kubeAPIBurst;
    if (f.tracingEndpoint !== undefined) c.tracing.endpoint = f.tracingEndpoint;
    if (f.tracingSamplingRatePerMillion !== undefined) c.tracing.samplingRatePerMillion = f.tracingSamplingRatePerMillion;
  }

  if (flags.kubeconfig !== undefined) c.kubeconfig = flags.kubeconfig;
  if (flags.bootstrapKubeconfig !== undefined) c.bootstrapKubeconfig = flags.bootstrapKubeconfig;
  if (flags.certDir !== undefined) c.certDir = flags.certDir;
  if (flags.rotateCertificates !== undefined) c.rotateCertificates = parseBoolean('--rotate-certificates', flags.rotateCertificates);
  if (flags.rotateServerCertificates !== undefined) c.rotateServerCertificates = parseBoolean('--rotate-server-certificates', flags.rotateServerCertificates);
  if (flags.containerRuntimeEndpoint !== undefined) c.containerRuntimeEndpoint = flags.containerRuntimeEndpoint;
  if (flags.imageServiceEndpoint !== undefined) c.imageServiceEndpoint = flags.imageServiceEndpoint;
  if (flags.rootDir !== undefined) c.rootDir = flags.rootDir;
  if (flags.podManifestPath !== undefined) c.podManifestPath = flags.podManifestPath;
  if (flags.podLogsDir !== undefined) c.podLogsDir = flags.podLogsDir;
  if (flags.nodeLabels !== undefined) c.nodeLabels = parseLabels('--node-labels', flags.nodeLabels);
  if (flags.registerWithTaints !== undefined) c.registerWithTaints = parseTaints('--register-with-taints', flags.registerWithTaints);
  if (flags.maxPods !== undefined) c.maxPods = parseInteger('--max-pods', flags.maxPods, 1);
  // int32 flags in the kubelet; negative values are refused, as its validation does.
  if (flags.kubeApiQps !== undefined) c.kubeAPIQPS = parseInteger('--kube-api-qps', flags.kubeApiQps, 0, 2 ** 31 - 1);
  if (flags.kubeApiBurst !== undefined) c.kubeAPIBurst = parseInteger('--kube-api-burst', flags.kubeApiBurst, 0, 2 ** 31 - 1);
  if (flags.nodeIp !== undefined) c.nodeIP = flags.nodeIp;
  if (flags.tracingEndpoint !== undefined) c.tracing.endpoint = parseTracingEndpoint('--tracing-endpoint', flags.tracingEndpoint);
  if (flags.podTimelines !== undefined) c.podTimelines = parseBoolean('--pod-timelines', flags.podTimelines);
  if (flags.port !== undefined) c.port = parseInteger('--port', flags.port, 0, 65535);
  if (flags.address !== undefined) c.address = flags.address;
  if (flags.healthzPort !== undefined) c.healthzPort = parseInteger('--healthz-port', flags.healthzPort, 0, 65535);
  if (flags.allowPrivileged !== undefined) c.allowPrivileged = flags.allowPrivileged;
  if (flags.allowedUnsafeSysctls !== undefined) {
    c.allowedUnsafeSysctls = parseUnsafeSysctls('--allowed-unsafe-sysctls', flags.allowedUnsafeSysctls.flatMap((v) => v.split(',')));
  }
  if (flags.v !== undefined) c.logLevel = levelForVerbosity('--v', flags.v);
  if (flags.logLevel !== undefined) {
    if (!logLevels.includes(flags.logLevel as LogLevel)) throw new ConfigError('--log-level', `"${flags.logLevel}" is not one of ${logLevels.join(', ')}`);
    c.logLevel = flags.logLevel as LogLevel;
  }
  if (flags.loggingFormat !== undefined) c.logFormat = parseLogFormat('--logging-format', flags.loggingFormat);
  if (flags.logFormat !== undefined) {
    const format = parseLogFormat('--log-format', flags.logFormat);
    if (flags.loggingFormat !== undefined && flags.loggingFormat !== format) throw new ConfigError('--log-format', `"${format}" contradicts --logging-format "${flags.loggingFormat}"`);
    c.logFormat = format;
  }
  if (flags.networkMode !== undefined) {
    if (flags.networkMode !== 'runtime' && flags.networkMode !== 'agent') {
      throw new ConfigError('--network-mode', `"${flags.networkMode}" is not runtime or agent`);
    }
    c.networkMode = flags.networkMode;
  }
  if (flags.cniConfDir !== undefined) c.cniConfDir = flags.cniConfDir;
  if (flags.cniBinDir !== undefined) c.cniBinDir = flags.cniBinDir;
  if (flags.cniNetwork !== undefined) c.cniNetwork = flags.cniNetwork;
  if (flags.devicePluginDir !== undefined) c.devicePluginDir = flags.devicePluginDir;
  if (flags.runtimeRequestTimeout !== undefined) c.runtimeRequestTimeoutMs = parseDuration('--runtime-request-timeout', flags.runtimeRequestTimeout);
  if (flags.tlsCertFile !== undefined) c.tlsCertFile = flags.tlsCertFile;
  if (flags.tlsPrivateKeyFile !== undefined) c.tlsPrivateKeyFile = flags.tlsPrivateKeyFile;
  if (flags.clientCaFile !== undefined) c.authentication.x509.clientCAFile = flags.clientCaFile;
  if (flags.authenticationTokenWebhook !== undefined) c.authentication.webhook.enabled = parseBoolean('--authentication-token-webhook', flags.authenticationTokenWebhook);
  if (flags.authenticationTokenWebhookCacheTtl !== undefined) {
    c.authentication.webhook.cacheTtlMs = parseDuration('--authentication-token-webhook-cache-ttl', flags.authenticationTokenWebhookCacheTtl);
  }
  if (flags.anonymousAuth !== undefined) c.authentication.anonymous.enabled = parseBoolean('--anonymous-auth', flags.anonymousAuth);
  if (flags.authorizationMode !== undefined) {
    if (!authorizationModes.includes(flags.authorizationMode as AuthorizationMode)) {
      throw new ConfigError('--authorization-mode', `"${flags.authorizationMode}" is not one of ${authorizationModes.join(', ')}`);
    }
    c.authorization.mode = flags.authorizationMode as AuthorizationMode;
  }
  if (flags.authorizationWebhookCacheAuthorizedTtl !== undefined) {
    c.authorization.webhook.cacheAuthorizedTtlMs = parseDuration('--authorization-webhook-cache-authorized-ttl', flags.authorizationWebhookCacheAuthorizedTtl);
  }
  if (flags.authorizationWebhookCacheUnauthorizedTtl !== undefined) {
    c.authorization.webhook.cacheUnauthorizedTtlMs = parseDuration('--authorization-webhook-cache-unauthorized-ttl', flags.authorizationWebhookCacheUnauthorizedTtl);
  }
  // The kubelet takes a serving certificate and its key together or not at all.
  if ((c.tlsCertFile === undefined) !== (c.tlsPrivateKeyFile === undefined)) {
    throw new ConfigError(c.tlsCertFile === undefined ? '--tls-cert-file' : '--tls-private-key-file', 'the serving certificate and its key must be given together (--tls-cert-file and --tls-private-key-file)');
  }

  if (c.bootstrapKubeconfig !== undefined && c.kubeconfig === undefined) {
    throw new ConfigError('--bootstrap-kubeconfig', 'needs --kubeconfig: the file the agent writes once it has its client certificate');
  }
  if (c.rotateServerCertificates && c.tlsCertFile !== undefined) {
    throw new ConfigError('--rotate-server-certificates', 'the serving certificate comes either from --tls-cert-file or by CSR, not both');
  }

  // The kubelet lower-cases the node name it derives from the hostname.
  c.nodeName = (flags.hostnameOverride ?? hostname()).trim().toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(c.nodeName)) {
    throw new ConfigError('--hostname-override', `"${c.nodeName}" is not a valid node name (DNS subdomain)`);
  }
  if (c.nodeIP !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$|:/.test(c.nodeIP)) {
    throw new ConfigError('--node-ip', `"${c.nodeIP}" is not an IP address`);
  }
  return { config: c, ignoredFileFields: ignored };
}
