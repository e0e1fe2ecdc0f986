// One pino logger for the agent, on stderr so that stdout stays free for what commands print.
// Children add `component` (apiserver, runtime-manager, ...); the root names the program.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, name: 'mini-kubelet', base: undefined }, pino.destination(2));
}
