// Parsers for the kubelet's flag value syntaxes. Each throws ConfigError naming the field.
import type { V1Taint } from '@kubernetes/client-node';
import { ConfigError } from './config-error.ts';
import { unsafeSysctlPatternProblem } from '../admission/sysctls.ts';

const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
// A qualified name as Kubernetes validates label keys: optional DNS prefix, then a name.
const labelKey = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** "k=v,k2=v2" → { k: 'v', k2: 'v2' } */
export function parseLabels(field: string, text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq < 0) throw new ConfigError(field, `"${item}" is not key=value`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (!labelKey.test(key)) throw new ConfigError(field, `invalid label key "${key}"`);
    if (!labelValue.test(value)) throw new ConfigError(field, `invalid label value "${value}" for key "${key}"`);
    labels[key] = value;
  }
  return labels;
}

/** "key=value:Effect" or "key:Effect" */
export function parseTaint(field: string, text: string): V1Taint {
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new ConfigError(field, `"${text}" is not key[=value]:Effect`);
  const effect = text.slice(colon + 1);
  if (!taintEffects.includes(effect)) {
    throw new ConfigError(field, `invalid taint effect "${effect}" in "${text}" (want one of ${taintEffects.join(', ')})`);
  }
  const kv = text.slice(0, colon);
  const eq = kv.indexOf('=');
  const key = eq < 0 ? kv : kv.slice(0, eq);
  const value = eq < 0 ? undefined : kv.slice(eq + 1);
  if (!labelKey.test(key)) throw new ConfigError(field, `invalid taint key "${key}"`);
  if (value !== undefined && !labelValue.test(value)) throw new ConfigError(field, `invalid taint value "${value}"`);
  return value === undefined ? { key, effect } : { key, value, effect };
}

export function parseTaints(field: string, text: string): V1Taint[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((t) => parseTaint(field, t));
}

/** --allowed-unsafe-sysctls: names or prefixes ending in *, each known to be namespaced (as the
 * kubelet, which refuses to start otherwise). */
export function parseUnsafeSysctls(field: string, patterns: readonly string[]): string[] {
  const out = patterns.map((p) => p.trim()).filter(Boolean);
  for (const pattern of out) {
    const problem = unsafeSysctlPatternProblem(pattern);
    if (problem) throw new ConfigError(field, problem);
  }
  return out;
}

export function parseInteger(field: string, text: string | number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof text === 'number' ? text : /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(field, `"${text}" is not an integer in [${min}, ${max}]`);
  }
  return n;
}

/** Go's strconv.ParseBool spellings, as kubelet boolean flags accept them (`--anonymous-auth=false`). */
export function parseBoolean(field: string, value: boolean | string): boolean {
  if (typeof value === 'boolean') return value;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new ConfigError(field, `"${value}" is not true or false`);
}

const durationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go duration syntax as KubeletConfiguration uses it ("2m0s", "10s", "1h30m") → milliseconds. */
export function parseDuration(field: string, text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/y; // \u00b5 = µ (Go accepts both)
  let total = 0;
  let at = 0;
  while (at < trimmed.length) {
    part.lastIndex = at;
    const m = part.exec(trimmed);
    if (!m) throw new ConfigError(field, `"${text}" is not a duration (e.g. 2m0s, 10s)`);
    total += Number(m[1]) * durationUnits[m[2]];
    at = part.lastIndex;
  }
  if (!trimmed) throw new ConfigError(field, 'empty duration');
  return total;
}

/** klog verbosity → pino level: 0-2 info, 3-4 debug, 5+ trace. */
export function levelForVerbosity(field: string, text: string): 'info' | 'debug' | 'trace' {
  const v = parseInteger(field, text, 0, 10);
  return v >= 5 ? 'trace' : v >= 3 ? 'debug' : 'info';
}

/** --log-format / --logging-format / logging.format: json or text, as the kubelet's (its text is klog's; ours is pino-pretty's). */
export function parseLogFormat(field: string, value: unknown): 'json' | 'text' {
  if (value === 'json' || value === 'text') return value;
  throw new ConfigError(field, `${JSON.stringify(value)} is not json or text`);
}

/** An OTLP/gRPC collector as the kubelet's tracing.endpoint takes it: host:port, no scheme. */
export function parseTracingEndpoint(field: string, text: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?):(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[3]) < 1 || Number(m[3]) > 65535) throw new ConfigError(field, `"${text}" is not host:port (an OTLP/gRPC collector, e.g. localhost:4317)`);
  return text.trim();
}
