// One pino logger for the agent, on stderr so that stdout stays free for what commands print.
// Children add `component` (apiserver, runtime-manager, ...); the root names the program.
// Lines logged inside a pod's work carry its pod and uid (src/pod/pod-log-scope.ts, a mixin).
//
// Two forms, as the kubelet's --logging-format: JSON, one object a line, for machines (the
// default when stderr is not a terminal), and text, for a person at a terminal: pino-pretty run
// in-process (no worker thread), one line each: local time, level, component, pod, message,
// then the remaining fields as JSON.
//   [14:01:22.123] DEBUG: cri-client default/web CRI call {"uid":"6c1f…","method":"RunPodSandbox","ms":3}
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type PinoPretty from 'pino-pretty';
import { podLogScopeMixin } from '../pod/pod-log-scope.ts';
import type { LogFormat } from './config/agent-config.ts';

export type { Logger, LogFormat };

export interface LoggerOutput {
  format?: LogFormat;
  /** Where lines go; default stderr (fd 2). */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Whether that destination is a terminal; default process.stderr.isTTY. */
  isTTY?: boolean;
  /** Colors in the text form; default: when it is a terminal. */
  colorize?: boolean;
}

/** The form lines take: text when asked for, or when `auto` and the stream is a terminal. */
export function effectiveLogFormat(format: LogFormat, isTTY: boolean): 'json' | 'text' {
  return format === 'auto' ? (isTTY ? 'text' : 'json') : format;
}

/** pino-pretty's options for the text form: local time (SYS:), one line each. */
export function prettyOptions(colorize: boolean): PinoPretty.PrettyOptions {
  return {
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    singleLine: true,
    ignore: 'pid,hostname,name,component,pod',
    messageFormat: '{if component}{component} {end}{if pod}{pod} {end}{msg}',
  };
}

/** The logger's options, shared by every form (tests build theirs from these too). */
export function loggerOptions(level: string): LoggerOptions {
  return { level, name: 'mini-kubelet', base: undefined, mixin: podLogScopeMixin };
}

/** Async because pino-pretty (and its dependencies, ~1.5 MB) loads only for the text form. */
export async function createLogger(level: string, output: LoggerOutput = {}): Promise<Logger> {
  const isTTY = output.isTTY ?? Boolean(process.stderr.isTTY);
  const format = effectiveLogFormat(output.format ?? 'auto', isTTY);
  if (format === 'text') {
    const { default: PinoPretty } = await import('pino-pretty');
    const pretty = PinoPretty({ ...prettyOptions(output.colorize ?? isTTY), destination: output.destination ?? 2, sync: true });
    return pino(loggerOptions(level), pretty);
  }
  return pino(loggerOptions(level), output.destination ?? pino.destination(2));
}
