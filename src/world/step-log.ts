// One log line per world step, with its duration: `{ step, ms }`.
import { pino, type Logger } from 'pino';

export function defaultWorldLogger(): Logger {
  return pino({ name: 'world', level: process.env.MINI_KUBELET_WORLD_LOG ?? 'info' }, pino.destination(2));
}

export async function timedStep<T>(log: Logger, step: string, fn: () => Promise<T> | T, fields: Record<string, unknown> = {}): Promise<T> {
  const started = performance.now();
  try {
    const result = await fn();
    log.info({ step, ms: Math.round(performance.now() - started), ...fields }, step);
    return result;
  } catch (err) {
    log.error({ step, ms: Math.round(performance.now() - started), err, ...fields }, `${step} failed`);
    throw err;
  }
}
