// The value syntaxes of `mini-kubelet sim-runtime`'s latency and fault flags, parsed into what
// FaultInjector takes. Pure: each parser throws ConfigError naming the flag (the command exits 2).
//   --latency RPC=MEAN[±JITTER]     RunPodSandbox=200ms±50ms (Go durations; "+-" for "±")
//   --latency-profile FILE          { "RunPodSandbox": { "meanMs": 200, "jitterMs": 50 } }
//   --fail RPC[:nth=N][:times=N|all][:share=S]
//   --delay RPC:ms=M[:nth=N][:times=N|all]
import { ConfigError } from '../../agent/config/config-error.ts';
import { parseDuration } from '../../agent/config/value-parsers.ts';
import { CRI_RPC_NAMES, FaultInjector, isCriRpcName, type CriRpcName, type FaultWindow, type LatencyProfile } from './faults.ts';

export interface LatencyRule { rpc: CriRpcName; profile: Required<LatencyProfile> }
export interface FailRule { rpc: CriRpcName; window: FaultWindow; share?: number }
export interface DelayRule { rpc: CriRpcName; ms: number; window: FaultWindow }

function rpcName(field: string, text: string): CriRpcName {
  const name = text.trim();
  if (!isCriRpcName(name)) throw new ConfigError(field, `unknown RPC "${name}" (known: ${CRI_RPC_NAMES.join(', ')})`);
  return name;
}

/** "RunPodSandbox=200ms±50ms" (or "+-50ms", or no jitter) */
export function parseLatencyFlag(text: string, field = '--latency'): LatencyRule {
  const eq = text.indexOf('=');
  if (eq < 0) throw new ConfigError(field, `"${text}" is not RPC=MEAN[±JITTER] (e.g. RunPodSandbox=200ms±50ms)`);
  const rpc = rpcName(field, text.slice(0, eq));
  const [mean, jitter, ...rest] = text.slice(eq + 1).split(/±|\+-/);
  if (rest.length) throw new ConfigError(field, `"${text}" has more than one jitter`);
  const meanMs = parseDuration(field, mean ?? '');
  const jitterMs = jitter === undefined ? 0 : parseDuration(field, jitter);
  return { rpc, profile: { meanMs, jitterMs } };
}

function nonNegativeMs(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ConfigError(field, `must be a number of milliseconds >= 0, got ${JSON.stringify(value)}`);
  return value;
}

/** The --latency-profile file's JSON: { "RPC": { "meanMs": N, "jitterMs": N }, ... }. `source` names it in errors. */
export function parseLatencyProfile(json: string, source = '--latency-profile'): LatencyRule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new ConfigError(source, `not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(source, 'must be a JSON object of RPC name to { meanMs, jitterMs }');
  return Object.entries(doc).map(([key, value]) => {
    const rpc = rpcName(source, key);
    const field = `${source}: ${key}`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(field, 'must be an object { meanMs, jitterMs }');
    for (const k of Object.keys(value)) if (k !== 'meanMs' && k !== 'jitterMs') throw new ConfigError(`${field}.${k}`, 'unknown field');
    const v = value as { meanMs?: unknown; jitterMs?: unknown };
    return { rpc, profile: { meanMs: nonNegativeMs(`${field}.meanMs`, v.meanMs), jitterMs: v.jitterMs === undefined ? 0 : nonNegativeMs(`${field}.jitterMs`, v.jitterMs) } };
  });
}

/** "RPC:k=v:k=v" → the RPC and its keys, each key at most once and one of `allowed`. */
function rpcWithKeys(field: string, text: string, allowed: readonly string[]): { rpc: CriRpcName; keys: Map<string, string> } {
  const [name, ...parts] = text.split(':');
  const rpc = rpcName(field, name ?? '');
  const keys = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (!allowed.includes(key) || eq < 0) throw new ConfigError(field, `"${part}" in "${text}" is not one of ${allowed.map((k) => `${k}=`).join(', ')}`);
    if (keys.has(key)) throw new ConfigError(field, `${key}= given twice in "${text}"`);
    keys.set(key, part.slice(eq + 1));
  }
  return { rpc, keys };
}

function positiveInt(field: string, key: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new ConfigError(field, `${key}= must be an integer >= 1, got "${text}"`);
  return Number(text);
}

function windowOf(field: string, keys: Map<string, string>, defaultTimes: number): FaultWindow {
  const nth = keys.get('nth');
  const times = keys.get('times');
  return {
    nth: nth === undefined ? 1 : positiveInt(field, 'nth', nth),
    times: times === undefined ? defaultTimes : times === 'all' ? Infinity : positiveInt(field, 'times', times),
  };
}

/** "CreateContainer:nth=1" (fail the 1st call), "PullImage:share=0.1" (a tenth of all calls), "StartContainer:nth=2:times=3". */
export function parseFailFlag(text: string, field = '--fail'): FailRule {
  const { rpc, keys } = rpcWithKeys(field, text, ['nth', 'times', 'share']);
  const shareText = keys.get('share');
  if (shareText === undefined) return { rpc, window: windowOf(field, keys, 1) };
  const share = Number(shareText);
  if (!/^\d*\.?\d+$/.test(shareText) || !(share >= 0 && share <= 1)) throw new ConfigError(field, `share= must be a number from 0 to 1, got "${shareText}"`);
  // A share applies to every call from nth on unless times says otherwise.
  return { rpc, window: windowOf(field, keys, Infinity), share };
}

/** "RunPodSandbox:nth=3:ms=500": hold the 3rd call 500 ms. */
export function parseDelayFlag(text: string, field = '--delay'): DelayRule {
  const { rpc, keys } = rpcWithKeys(field, text, ['nth', 'times', 'ms']);
  const msText = keys.get('ms');
  if (msText === undefined) throw new ConfigError(field, `"${text}" needs ms= (e.g. ${rpc}:nth=1:ms=500)`);
  if (!/^\d+(\.\d+)?$/.test(msText)) throw new ConfigError(field, `ms= must be a number of milliseconds, got "${msText}"`);
  return { rpc, ms: Number(msText), window: windowOf(field, keys, 1) };
}

export interface SimFaultFlags {
  /** --latency-profile's file content (and its name for errors), applied before the --latency flags. */
  latencyProfile?: { json: string; source: string };
  latency?: string[];
  fail?: string[];
  delay?: string[];
}

/** Every rule the flags give, parsed first (so one bad flag leaves nothing half applied), on `into`. */
export function faultInjectorFromFlags(flags: SimFaultFlags, into = new FaultInjector()): FaultInjector {
  const latencies = [
    ...(flags.latencyProfile ? parseLatencyProfile(flags.latencyProfile.json, flags.latencyProfile.source) : []),
    ...(flags.latency ?? []).map((t) => parseLatencyFlag(t)),
  ];
  const fails = (flags.fail ?? []).map((t) => parseFailFlag(t));
  const delays = (flags.delay ?? []).map((t) => parseDelayFlag(t));
  for (const l of latencies) into.latency(l.rpc, l.profile);
  for (const f of fails) into.fail(f.rpc, { ...f.window, ...(f.share !== undefined ? { share: f.share } : {}) });
  for (const d of delays) into.delay(d.rpc, d.ms, d.window);
  return into;
}
