// Fault injection for the simulated runtime: make the nth call of an RPC fail with a chosen
// gRPC status, or hold it for a while, to exercise the caller's error and timeout paths.
import { status } from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimError } from './errors.ts';

/** The RPCs the simulated runtime serves, named as in the .proto. */
export const CRI_RPC_NAMES = [
  'Version', 'RunPodSandbox', 'StopPodSandbox', 'RemovePodSandbox', 'PodSandboxStatus', 'ListPodSandbox',
  'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'ListContainers',
  'ContainerStatus', 'UpdateContainerResources', 'ListContainerStats', 'ExecSync', 'Exec', 'Attach', 'PortForward', 'Status',
  'GetContainerEvents',
  'ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo',
] as const;

/** RPC names as in the .proto, e.g. "RunPodSandbox", "PullImage". */
export type CriRpcName = (typeof CRI_RPC_NAMES)[number];

export function isCriRpcName(name: string): name is CriRpcName {
  return (CRI_RPC_NAMES as readonly string[]).includes(name);
}

/** A latency every call of an RPC gets: uniform in [meanMs - jitterMs, meanMs + jitterMs], never below 0. */
export interface LatencyProfile {
  meanMs: number;
  jitterMs?: number;
}

export interface FaultWindow {
  /** Which upcoming call is hit first: 1 = the next call (default). */
  nth?: number;
  /** How many consecutive calls are hit from there (default 1; Infinity for all). */
  times?: number;
}

export interface FailOptions extends FaultWindow {
  /** gRPC status code (default UNKNOWN, what containerd answers for most failures). */
  code?: status;
  message?: string;
  /** Each call in the window fails with this probability (default 1: every one). */
  share?: number;
}

interface Rule {
  rpc: CriRpcName;
  from: number;
  until: number;
  failWith?: { code: status; message: string };
  share?: number;
  delayMs?: number;
}

export class FaultInjector {
  private readonly counts = new Map<CriRpcName, number>();
  private rules: Rule[] = [];
  private readonly latencies = new Map<CriRpcName, LatencyProfile>();

  /** `random` draws the shares and jitters (default Math.random); tests pass a fixed one. */
  constructor(private readonly random: () => number = Math.random) {}

  /** Make calls of `rpc` in the window fail. */
  fail(rpc: CriRpcName, opts: FailOptions = {}): void {
    const code = opts.code ?? status.UNKNOWN;
    const share = opts.share ?? 1;
    if (!(share >= 0 && share <= 1)) throw new RangeError('share must be between 0 and 1');
    this.rules.push({ rpc, ...this.window(rpc, opts), failWith: { code, message: opts.message ?? `injected fault: ${rpc} failed` }, share });
  }

  /** Give every call of `rpc` this latency before it is answered (replaces an earlier one; kept by clear()). */
  latency(rpc: CriRpcName, profile: LatencyProfile): void {
    const jitterMs = profile.jitterMs ?? 0;
    if (!(profile.meanMs >= 0) || !(jitterMs >= 0)) throw new RangeError('meanMs and jitterMs must be >= 0');
    this.latencies.set(rpc, { meanMs: profile.meanMs, jitterMs });
  }

  /** Hold calls of `rpc` in the window for `ms` before they are answered normally. */
  delay(rpc: CriRpcName, ms: number, opts: FaultWindow = {}): void {
    this.rules.push({ rpc, ...this.window(rpc, opts), delayMs: ms });
  }

  /** Forget every rule (call counts are kept). */
  clear(): void {
    this.rules = [];
  }

  /** How many calls of `rpc` the runtime has received so far. */
  callCount(rpc: CriRpcName): number {
    return this.counts.get(rpc) ?? 0;
  }

  /** Called by the server before it handles each RPC: counts it, then applies the rules. */
  async before(rpc: CriRpcName): Promise<void> {
    const n = this.callCount(rpc) + 1;
    this.counts.set(rpc, n);
    const hits = this.rules.filter((r) => r.rpc === rpc && r.from <= n && n < r.until);
    const delayMs = hits.reduce((sum, r) => sum + (r.delayMs ?? 0), 0) + this.latencyMs(rpc);
    if (delayMs > 0) await sleep(delayMs);
    const failure = hits.find((r) => r.failWith && (r.share === undefined || r.share >= 1 || this.random() < r.share))?.failWith;
    if (failure) throw new SimError(failure.code, failure.message);
  }

  private latencyMs(rpc: CriRpcName): number {
    const profile = this.latencies.get(rpc);
    if (!profile) return 0;
    const jitter = profile.jitterMs ?? 0;
    return Math.max(0, profile.meanMs + (jitter ? (this.random() * 2 - 1) * jitter : 0));
  }

  private window(rpc: CriRpcName, opts: FaultWindow): { from: number; until: number } {
    const nth = opts.nth ?? 1;
    const times = opts.times ?? 1;
    if (!(nth >= 1) || !(times >= 1)) throw new RangeError('nth and times must be >= 1');
    const from = this.callCount(rpc) + nth;
    return { from, until: from + times };
  }
}
