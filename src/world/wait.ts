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
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
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
