// mini-kubelet as a child process of the fuzzer: the fuzzer's claim is that the agent never
// crashes, so it runs apart and its pid is watched. Its pino log goes to a file, read at the
// end for the error lines it logged.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freeLoopbackPort } from '../world/free-port.ts';
import { waitFor } from '../world/wait.ts';

const repoRoot = resolve(import.meta.dirname, '..', '..');

export interface AgentChildOptions {
  args: string[];
  logPath: string;
  /** Resolves once the agent's node is Ready in the API. */
  nodeReady: () => Promise<boolean>;
}

export class AgentChild {
  private child?: ChildProcess;
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  /** Exits the fuzzer did not ask for: code, signal and the log's last lines. */
  readonly crashes: Array<{ pid: number; code: number | null; signal: NodeJS.Signals | null; logTail: string }> = [];
  private stopping = false;
  private readonly log;
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  constructor(private readonly opts: AgentChildOptions) {
    this.log = createWriteStream(opts.logPath, { flags: 'a' });
    process.on('exit', this.killOnExit);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Still the process started last, and running. */
  alive(): boolean {
    return !!this.child && this.exit === undefined;
  }

  async start(): Promise<void> {
    const healthzPort = await freeLoopbackPort();
    const c = spawn(process.execPath, [join(repoRoot, 'bin', 'mini-kubelet.mjs'), ...this.opts.args, '--healthz-port', String(healthzPort)], {
      cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = c;
    this.exit = undefined;
    c.stdout!.pipe(this.log, { end: false });
    c.stderr!.pipe(this.log, { end: false });
    c.once('exit', (code, signal) => {
      this.exit = { code, signal };
      if (!this.stopping) this.crashes.push({ pid: c.pid!, code, signal, logTail: this.logTail(30) });
    });
    await waitFor(async () => {
      if (this.exit) throw new Error(`agent exited (${this.exit.signal ?? this.exit.code}) before it was healthy:\n${this.logTail()}`);
      const res = await fetch(`http://127.0.0.1:${healthzPort}/healthz`);
      return res.ok && (await this.opts.nodeReady());
    }, { timeoutMs: 90_000, intervalMs: 100, what: 'the agent to be healthy and its node Ready' });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const c = this.child;
    if (c && this.exit === undefined) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', this.killOnExit);
    await new Promise((r) => this.log.end(r));
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.opts.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Messages of the error (and fatal) lines the agent logged, with how often each came. */
  errorMessages(): Record<string, number> {
    const counts: Record<string, number> = {};
    let text = '';
    try {
      text = readFileSync(this.opts.logPath, 'utf8');
    } catch {
      return counts;
    }
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) {
        if (/Error|error/.test(line) && line.trim()) counts[`(not JSON) ${line.slice(0, 160)}`] = (counts[`(not JSON) ${line.slice(0, 160)}`] ?? 0) + 1;
        continue;
      }
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; err?: unknown };
        if ((entry.level ?? 0) >= 50) {
          const key = String(entry.msg ?? '(no msg)').slice(0, 160);
          counts[key] = (counts[key] ?? 0) + 1;
        }
      } catch {
        // a line cut by the end of the file
      }
    }
    return counts;
  }
}
