// KubeletConfiguration (kubelet.config.k8s.io/v1beta1) files: the fields this agent honours,
// under the kubelet's own names. Fields the kubelet knows but this agent does not use are
// accepted and listed as ignored; anything else is an error naming the field.
import { parse as parseYaml } from 'yaml';
import type { V1Taint } from '@kubernetes/client-node';
import type { AuthorizationMode } from './agent-config.ts';
import { authorizationModes } from './agent-config.ts';
import { ConfigError } from './config-error.ts';
import { parseDuration, parseInteger, parseLogFormat, parseTaint, parseTracingEndpoint, parseUnsafeSysctls } from './value-parsers.ts';

export interface KubeletConfigFile {
  maxPods?: number;
  staticPodPath?: string;
  healthzPort?: number;
  healthzBindAddress?: string;
  port?: number;
  address?: string;
  registerWithTaints?: V1Taint[];
  runtimeRequestTimeoutMs?: number;
  containerRuntimeEndpoint?: string;
  imageServiceEndpoint?: string;
  podLogsDir?: string;
  nodeStatusUpdateMs?: number;
  nodeStatusReportMs?: number;
  nodeLeaseDurationSeconds?: number;
  fileCheckMs?: number;
  syncMs?: number;
  verbosity?: number;
  /** logging.format: json or text. */
  logFormat?: 'json' | 'text';
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCAFile?: string;
  authenticationWebhookEnabled?: boolean;
  authenticationWebhookCacheTtlMs?: number;
  anonymousAuthEnabled?: boolean;
  authorizationMode?: AuthorizationMode;
  authorizationWebhookCacheAuthorizedTtlMs?: number;
  authorizationWebhookCacheUnauthorizedTtlMs?: number;
  allowedUnsafeSysctls?: string[];
  rotateCertificates?: boolean;
  serverTLSBootstrap?: boolean;
  kubeAPIQPS?: number;
  kubeAPIBurst?: number;
  /** tracing.endpoint (host:port of an OTLP/gRPC collector) and tracing.samplingRatePerMillion. */
  tracingEndpoint?: string;
  tracingSamplingRatePerMillion?: number;
  /** Kubelet fields present in the file that this agent does not implement. */
  ignored: string[];
}

const kubeletFieldsNotImplemented = new Set([
  'cgroupDriver', 'cgroupRoot', 'clusterDNS', 'clusterDomain',
  'containerLogMaxSize', 'containerLogMaxFiles', 'cpuManagerPolicy', 'evictionHard', 'evictionSoft',
  'failSwapOn', 'featureGates', 'imageGCHighThresholdPercent', 'imageGCLowThresholdPercent',
  'memorySwap', 'readOnlyPort', 'resolvConf',
  'serializeImagePulls', 'maxParallelImagePulls', 'tlsCipherSuites', 'tlsMinVersion',
  'volumeStatsAggPeriod', 'enableServer', 'shutdownGracePeriod', 'shutdownGracePeriodCriticalPods',
  'systemReserved', 'kubeReserved', 'enforceNodeAllocatable', 'hairpinMode', 'podPidsLimit', 'protectKernelDefaults',
]);

const int32Max = 2 ** 31 - 1;

type Reader = (field: string, value: unknown, out: KubeletConfigFile) => void;

function str(key: keyof KubeletConfigFile): Reader {
  return (field, value, out) => {
    if (typeof value !== 'string') throw new ConfigError(field, `must be a string, got ${typeName(value)}`);
    (out as unknown as Record<string, unknown>)[key] = value;
  };
}
function int(key: keyof KubeletConfigFile, min: number, max?: number): Reader {
  return (field, value, out) => {
    if (typeof value !== 'number') throw new ConfigError(field, `must be an integer, got ${typeName(value)}`);
    (out as unknown as Record<string, unknown>)[key] = parseInteger(field, value, min, max);
  };
}
function duration(key: keyof KubeletConfigFile): Reader {
  return (field, value, out) => {
    if (typeof value !== 'string') throw new ConfigError(field, `must be a duration string such as "2m0s", got ${typeName(value)}`);
    (out as unknown as Record<string, unknown>)[key] = parseDuration(field, value);
  };
}

function bool(key: keyof KubeletConfigFile): Reader {
  return (field, value, out) => {
    if (typeof value !== 'boolean') throw new ConfigError(field, `must be true or false, got ${typeName(value)}`);
    (out as unknown as Record<string, unknown>)[key] = value;
  };
}

/** A nested object whose fields each have a reader; unknown fields are errors naming their path. */
function object(fields: Record<string, Reader>): Reader {
  return (field, value, out) => {
    if (!isObject(value)) throw new ConfigError(field, `must be an object, got ${typeName(value)}`);
    for (const [k, v] of Object.entries(value)) {
      const reader = fields[k];
      if (!reader) throw new ConfigError(`${field}.${k}`, 'unknown field');
      reader(`${field}.${k}`, v, out);
    }
  };
}

const readers: Record<string, Reader> = {
  kind: () => {},
  apiVersion: () => {},
  maxPods: int('maxPods', 1),
  // int32 in KubeletConfiguration v1beta1; negative values are refused, as the kubelet's validation does.
  kubeAPIQPS: int('kubeAPIQPS', 0, int32Max),
  kubeAPIBurst: int('kubeAPIBurst', 0, int32Max),
  staticPodPath: str('staticPodPath'),
  healthzPort: int('healthzPort', 0, 65535),
  healthzBindAddress: str('healthzBindAddress'),
  port: int('port', 0, 65535),
  address: str('address'),
  runtimeRequestTimeout: duration('runtimeRequestTimeoutMs'),
  containerRuntimeEndpoint: str('containerRuntimeEndpoint'),
  imageServiceEndpoint: str('imageServiceEndpoint'),
  podLogsDir: str('podLogsDir'),
  nodeStatusUpdateFrequency: duration('nodeStatusUpdateMs'),
  nodeStatusReportFrequency: duration('nodeStatusReportMs'),
  nodeLeaseDurationSeconds: int('nodeLeaseDurationSeconds', 1),
  fileCheckFrequency: duration('fileCheckMs'),
  syncFrequency: duration('syncMs'),
  tlsCertFile: str('tlsCertFile'),
  rotateCertificates: bool('rotateCertificates'),
  serverTLSBootstrap: bool('serverTLSBootstrap'),
  tlsPrivateKeyFile: str('tlsPrivateKeyFile'),
  authentication: object({
    x509: object({ clientCAFile: str('clientCAFile') }),
    webhook: object({ enabled: bool('authenticationWebhookEnabled'), cacheTTL: duration('authenticationWebhookCacheTtlMs') }),
    anonymous: object({ enabled: bool('anonymousAuthEnabled') }),
  }),
  authorization: object({
    mode: (field, value, out) => {
      if (!authorizationModes.includes(value as AuthorizationMode)) throw new ConfigError(field, `must be one of ${authorizationModes.join(', ')}, got ${JSON.stringify(value)}`);
      out.authorizationMode = value as AuthorizationMode;
    },
    webhook: object({
      cacheAuthorizedTTL: duration('authorizationWebhookCacheAuthorizedTtlMs'),
      cacheUnauthorizedTTL: duration('authorizationWebhookCacheUnauthorizedTtlMs'),
    }),
  }),
  allowedUnsafeSysctls: (field, value, out) => {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ConfigError(field, `must be a list of strings, got ${typeName(value)}`);
    out.allowedUnsafeSysctls = parseUnsafeSysctls(field, value);
  },
  registerWithTaints: (field, value, out) => {
    if (!Array.isArray(value)) throw new ConfigError(field, `must be a list of taints, got ${typeName(value)}`);
    out.registerWithTaints = value.map((t, i) => readTaint(`${field}[${i}]`, t));
  },
  tracing: object({
    endpoint: (field, value, out) => {
      if (typeof value !== 'string') throw new ConfigError(field, `must be a string, got ${typeName(value)}`);
      out.tracingEndpoint = parseTracingEndpoint(field, value);
    },
    samplingRatePerMillion: int('tracingSamplingRatePerMillion', 0, 1_000_000),
  }),
  logging: (field, value, out) => {
    if (!isObject(value)) throw new ConfigError(field, `must be an object, got ${typeName(value)}`);
    for (const [k, v] of Object.entries(value)) {
      if (k === 'verbosity') out.verbosity = parseInteger(`${field}.verbosity`, typeof v === 'number' ? v : String(v), 0, 10);
      else if (k === 'format') out.logFormat = parseLogFormat(`${field}.format`, v);
      else if (k !== 'flushFrequency' && k !== 'options') throw new ConfigError(`${field}.${k}`, 'unknown field');
    }
  },
};

function readTaint(field: string, value: unknown): V1Taint {
  if (!isObject(value)) throw new ConfigError(field, `must be an object with key, value, effect`);
  for (const k of Object.keys(value)) {
    if (!['key', 'value', 'effect', 'timeAdded'].includes(k)) throw new ConfigError(`${field}.${k}`, 'unknown field');
  }
  const { key, value: v, effect } = value as Record<string, unknown>;
  if (typeof key !== 'string') throw new ConfigError(`${field}.key`, 'must be a string');
  if (v !== undefined && typeof v !== 'string') throw new ConfigError(`${field}.value`, 'must be a string');
  if (typeof effect !== 'string') throw new ConfigError(`${field}.effect`, 'must be a string');
  return parseTaint(field, v === undefined ? `${key}:${effect}` : `${key}=${v}:${effect}`);
}

/** Parse and validate a KubeletConfiguration document (YAML or JSON). */
export function parseKubeletConfigFile(text: string, source = '--config'): KubeletConfigFile {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(source, `not valid YAML: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new ConfigError(source, 'must be a KubeletConfiguration object');
  if (doc.kind !== 'KubeletConfiguration') throw new ConfigError(`${source}: kind`, `must be KubeletConfiguration, got ${JSON.stringify(doc.kind)}`);
  if (doc.apiVersion !== 'kubelet.config.k8s.io/v1beta1') {
    throw new ConfigError(`${source}: apiVersion`, `must be kubelet.config.k8s.io/v1beta1, got ${JSON.stringify(doc.apiVersion)}`);
  }
  const out: KubeletConfigFile = { ignored: [] };
  for (const [key, value] of Object.entries(doc)) {
    const reader = readers[key];
    if (reader) reader(key, value, out);
    else if (kubeletFieldsNotImplemented.has(key)) out.ignored.push(key);
    else throw new ConfigError(key, `unknown field in KubeletConfiguration (${source})`);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function typeName(v: unknown): string {
  return Array.isArray(v) ? 'list' : v === null ? 'null' : typeof v;
}
