// One pino logger for the agent, on stderr so that stdout stays free for what commands print.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { component: 'mini-kubelet' } }, pino.destination(2));
}
