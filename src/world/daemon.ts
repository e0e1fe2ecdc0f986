// A long-running child process of the world (containerd, a registry): output goes to a log
// file under the world's root, and stopping it means SIGTERM, then SIGKILL after a grace.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<number | string>;
  isRunning(): boolean;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
  stop(graceMs?: number): Promise<void>;
}

export function startDaemon(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Daemon {
  const fd = openSync(logFile, 'a');
  // Its own process group: a terminal's Ctrl-C reaches only the owner, which then removes its
  // pods through the runtime before it stops the daemons (world.stop()).
  const child = spawn(command, args, { stdio: ['ignore', fd, fd], env, detached: true });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = child.pid;
  let running = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', () => {
      running = false;
      resolve('spawn-error');
    });
  });
  const logTail = (lines = 20) => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  return {
    name,
    pid,
    logFile,
    exited,
    isRunning: () => running,
    logTail,
    async stop(graceMs = 5000) {
      if (!running) return;
      child.kill('SIGTERM');
      const gone = await Promise.race([exited.then(() => true), delay(graceMs).then(() => false)]);
      if (!gone) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** True while a process with this pid exists and has not exited: a zombie (exited, not yet
 * reaped by its parent, often init for daemonised shims) counts as gone. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state letter follows the parenthesised command name, which may itself hold ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
