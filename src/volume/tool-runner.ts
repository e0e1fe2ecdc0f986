// mount(8) and umount(8), run by a small helper process instead of by the agent itself. To start
// a program a process forks first, and a fork costs in proportion to the forking process's memory
// (its page tables are copied) while its event loop waits: from an agent holding thousands of
// pods each mount and umount blocked it ~6 ms, over a minute of a 5,000-pod start. The helper is
// a bare node process running only the script below: it forks cheaply, off the agent's loop.
// It runs each request with execFile (no shell: arguments go as a list), only programs it was
// started for, several at once, and answers with the exit status and stderr. Started on first use;
// it ends when the agent does (its stdin closes).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const helperScript = `
const { execFile } = require('node:child_process');
const allowed = new Set(JSON.parse(process.argv[1]));
const answer = (a) => process.stdout.write(JSON.stringify(a) + '\\n');
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, file, args } = JSON.parse(line);
  if (!allowed.has(file)) return answer({ id, code: 127, stderr: file + ': not allowed' });
  execFile(file, args, { timeout: 120000 }, (err, _out, stderr) => {
    answer({ id, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr: err && typeof err.code !== 'number' ? String(err.message) : String(stderr) });
  });
}).on('close', () => process.exit(0));
`;

export interface ToolRunner {
  /** Runs file with args; rejects with the exit status and stderr when it fails. */
  run(file: string, args: readonly string[]): Promise<void>;
  stop(): void;
}

interface Answer { id: number; code: number; stderr: string }
interface Helper {
  child: ChildProcess;
  pending: Map<number, { resolve: () => void; reject: (err: Error) => void; what: string }>;
}

export function createToolRunner(allowed: readonly string[]): ToolRunner {
  let helper: Helper | undefined;
  let nextId = 0;

  function started(): Helper {
    if (helper && helper.child.exitCode === null && helper.child.signalCode === null) return helper;
    const child = spawn(process.execPath, ['-e', helperScript, JSON.stringify(allowed)], { stdio: ['pipe', 'pipe', 'inherit'] });
    // Requests sent to this helper: a helper that ends fails its own, not a successor's.
    const pending: Helper['pending'] = new Map();
    const failAll = (why: string) => {
      for (const p of pending.values()) p.reject(new Error(`${p.what}: ${why}`));
      pending.clear();
    };
    child.on('error', (err) => failAll(`tool helper failed: ${err.message}`));
    child.on('exit', (code, signal) => {
      if (helper?.child === child) helper = undefined;
      failAll(`tool helper exited (${signal ?? code})`);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const a = JSON.parse(line) as Answer;
      const p = pending.get(a.id);
      if (!p) return;
      pending.delete(a.id);
      if (a.code === 0) p.resolve();
      else p.reject(new Error(`${p.what}: exit status ${a.code}: ${a.stderr.trim()}`));
      if (!pending.size) unref(child);
    });
    unref(child);
    return (helper = { child, pending });
  }

  /** An idle helper must not keep the agent's process alive; a busy one does, until it answers. */
  function unref(child: ChildProcess): void {
    child.unref();
    (child.stdout as unknown as { unref?: () => void })?.unref?.();
    (child.stdin as unknown as { unref?: () => void })?.unref?.();
  }
  function ref(child: ChildProcess): void {
    child.ref();
    (child.stdout as unknown as { ref?: () => void })?.ref?.();
    (child.stdin as unknown as { ref?: () => void })?.ref?.();
  }

  return {
    run(file, args) {
      const what = `${file} ${args.join(' ')}`;
      if (!allowed.includes(file)) return Promise.reject(new Error(`${what}: not allowed`));
      return new Promise<void>((resolve, reject) => {
        const { child, pending } = started();
        const id = nextId++;
        pending.set(id, { resolve, reject, what });
        ref(child);
        child.stdin!.write(`${JSON.stringify({ id, file, args })}\n`);
      });
    },
    stop() {
      helper?.child.stdin?.end();
      helper = undefined;
    },
  };
}
