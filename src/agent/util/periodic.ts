// Run an async job now and then every `intervalMs`, never overlapping itself; errors are
// logged and the loop goes on. Returns a stopper that waits for a running job to finish.
import type { Logger } from 'pino';

export function runPeriodically(name: string, intervalMs: number, job: () => Promise<void>, logger: Logger, runNow = true): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = job()
      .catch((err) => logger.warn({ err, job: name }, 'periodic job failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  if (runNow) tick();
  else timer = setTimeout(tick, intervalMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
