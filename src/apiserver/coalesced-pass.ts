// How the dev control plane's controllers react to store changes: a burst of changes asks for
// one pass, run after the write that triggered it has been answered and broadcast. A pass that
// throws is logged, never allowed to take the server down; the next change tries again.
import type { Logger } from 'pino';

/** Returns the function that asks for a pass. */
export function coalescedPass(pass: () => void, log: Logger, what: string): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      try {
        pass();
      } catch (err) {
        log.error({ err }, `${what} failed`);
      }
    });
  };
}
