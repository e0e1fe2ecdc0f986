// Merge order, as the kubelet: defaults, then the --config file, then flags on the command line.
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.ts';
import { defaultConfig, type AgentConfig, type LogLevel } from './agent-config.ts';
import { parseKubeletConfigFile } from './kubelet-config-file.ts';
import { levelForVerbosity, parseDuration, parseInteger, parseLabels, parseTaints } from './value-parsers.ts';

/** Flag values exactly as commander hands them over (strings; booleans for switches). */
export interface AgentFlags {
  config?: string;
  kubeconfig?: string;
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
  v?: string;
  logLevel?: string;
  networkMode?: string;
  cniConfDir?: string;
  cniBinDir?: string;
  cniNetwork?: string;
  devicePluginDir?: string;
  runtimeRequestTimeout?: string;
}

const logLevels: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface ResolvedConfig {
  config: AgentConfig;
  /** KubeletConfiguration fields that were accepted but have no effect here. */
  ignoredFileFields: string[];
}

export function resolveAgentConfig(flags: AgentFlags, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): ResolvedConfig {
  const c: AgentConfig = { ...defaultConfig, intervals: { ...defaultConfig.intervals }, nodeName: '' };
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
  }

  if (flags.kubeconfig !== undefined) c.kubeconfig = flags.kubeconfig;
  if (flags.containerRuntimeEndpoint !== undefined) c.containerRuntimeEndpoint = flags.containerRuntimeEndpoint;
  if (flags.imageServiceEndpoint !== undefined) c.imageServiceEndpoint = flags.imageServiceEndpoint;
  if (flags.rootDir !== undefined) c.rootDir = flags.rootDir;
  if (flags.podManifestPath !== undefined) c.podManifestPath = flags.podManifestPath;
  if (flags.podLogsDir !== undefined) c.podLogsDir = flags.podLogsDir;
  if (flags.nodeLabels !== undefined) c.nodeLabels = parseLabels('--node-labels', flags.nodeLabels);
  if (flags.registerWithTaints !== undefined) c.registerWithTaints = parseTaints('--register-with-taints', flags.registerWithTaints);
  if (flags.maxPods !== undefined) c.maxPods = parseInteger('--max-pods', flags.maxPods, 1);
  if (flags.nodeIp !== undefined) c.nodeIP = flags.nodeIp;
  if (flags.port !== undefined) c.port = parseInteger('--port', flags.port, 0, 65535);
  if (flags.address !== undefined) c.address = flags.address;
  if (flags.healthzPort !== undefined) c.healthzPort = parseInteger('--healthz-port', flags.healthzPort, 0, 65535);
  if (flags.allowPrivileged !== undefined) c.allowPrivileged = flags.allowPrivileged;
  if (flags.v !== undefined) c.logLevel = levelForVerbosity('--v', flags.v);
  if (flags.logLevel !== undefined) {
    if (!logLevels.includes(flags.logLevel as LogLevel)) throw new ConfigError('--log-level', `"${flags.logLevel}" is not one of ${logLevels.join(', ')}`);
    c.logLevel = flags.logLevel as LogLevel;
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
