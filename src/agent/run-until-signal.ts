// Runs something stoppable until SIGINT/SIGTERM, then stops it once and exits.
import type { Logger } from 'pino';

export interface Stoppable {
  stop(): Promise<void>;
}

export async function runUntilSignal(logger: Logger, start: () => Promise<Stoppable>): Promise<void> {
  const running = await start();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      running.stop().then(resolve, (err) => {
        logger.error({ err }, 'stop failed');
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  process.exit(0);
}
