// Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer delay fires at once, which
// would turn a long wait (a deadline, a probe period, a token's life) into a busy loop.
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay a timer can hold: at least 0, at most MAX_TIMER_MS. */
export function clampTimerMs(ms: number): number {
  return Math.min(Math.max(ms, 0), MAX_TIMER_MS);
}

/** Runs fn at the wall-clock time `at` however far off (in steps a timer can hold); returns the canceller. */
export function runAt(at: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout;
  const step = () => {
    const left = at - Date.now();
    timer = left > MAX_TIMER_MS ? setTimeout(step, MAX_TIMER_MS) : setTimeout(fn, Math.max(0, left));
    timer.unref?.();
  };
  step();
  return () => clearTimeout(timer);
}
