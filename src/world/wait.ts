// Polls a condition until it holds or a deadline passes: the world waits on facts (a socket
// answers, a port listens), never on fixed sleeps.
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Named in the timeout error. */
  what: string;
}

export async function waitFor(condition: () => boolean | Promise<boolean>, opts: WaitOptions): Promise<void> {
  await pollFor(async () => (await condition()) || undefined, opts);
}

/** Polls until the probe yields a value (not undefined or false) and returns it. */
export async function pollFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? `: ${(lastError as Error).message ?? lastError}` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${why}`);
    }
    await delay(opts.intervalMs ?? 50);
  }
}
