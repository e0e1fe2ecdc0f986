// Watches the runtime's health (CRI Status) and says at once when it flips, as the kubelet's
// runtime state check (updateRuntimeUp) does, so the node controller posts NotReady / Ready
// when containerd goes down or comes back instead of at its next status period (10 s).
import type { Logger } from 'pino';
import type { PodRuntime, RuntimeHealth } from '../../cri/runtime-manager/pod-runtime.ts';
import { runPeriodically } from '../util/periodic.ts';

/** What the node's Ready condition depends on: the runtime, then its network. */
export type RuntimeHealthState = 'ready' | 'runtime-down' | 'network-not-ready';

export function runtimeHealthState(health: RuntimeHealth | undefined): RuntimeHealthState {
  if (!health || !health.runtimeReady) return 'runtime-down';
  return health.networkReady ? 'ready' : 'network-not-ready';
}

/** Whether a check's result is news for the node status: a flip of state (down → up, up →
 * down, network), not a first look (the controller reported that at start) nor a new message. */
export function runtimeHealthChanged(previous: RuntimeHealthState | undefined, next: RuntimeHealthState): boolean {
  return previous !== undefined && previous !== next;
}

export interface RuntimeHealthWatchOptions {
  periodMs: number;
  /** A check that takes longer says nothing (neither up nor down); the next one asks again. */
  checkTimeoutMs?: number;
}

/** Checks health every periodMs and calls onChange(state) when it flips; returns a stopper. */
export function watchRuntimeHealth(runtime: Pick<PodRuntime, 'health'>, onChange: (state: RuntimeHealthState) => void, logger: Logger, opts: RuntimeHealthWatchOptions): () => Promise<void> {
  let last: RuntimeHealthState | undefined;
  const timeoutMs = opts.checkTimeoutMs ?? Math.max(2000, opts.periodMs);
  return runPeriodically('runtime-health', opts.periodMs, async () => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const health = await Promise.race([runtime.health().catch(() => undefined), timedOut]).finally(() => clearTimeout(timer));
    if (health === 'timeout') return;
    const state = runtimeHealthState(health);
    const changed = runtimeHealthChanged(last, state);
    last = state;
    if (!changed) return;
    logger.info({ state, message: health?.message }, 'container runtime health changed');
    onChange(state);
  }, logger);
}
