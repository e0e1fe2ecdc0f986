// The simulated runtime runs no processes: it reads a container's command and plays what it
// would do. Understood: echo, sleep N, exit N, true, false, ':' and trap, either as the command
// itself or as statements of `sh -c "..."`. Anything else (a server, a loop, the image's own
// entrypoint) runs until stopped; a plain `exec` of such a command succeeds without output.
import { basename } from 'node:path';

export interface ProcessPlan {
  /** Lines written to stdout (echo), in order. */
  stdout: string[];
  /** Exit by itself after `afterMs` with `code`; absent: runs until stopped. */
  exit?: { code: number; afterMs: number };
  /** The script installs a signal handler (`trap`): SIGTERM does not end it, so a stop ends it
   * only when the grace period runs out, with SIGKILL (exit 137). */
  ignoresTerm: boolean;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'busybox-sh']);

/** Plan for a container's main process, from ContainerConfig command + args. */
export function planProcess(argv: string[]): ProcessPlan {
  return interpret(statementsOf(argv), 'runs-forever');
}

/** Plan for ExecSync: unknown commands succeed at once (probes such as `cat /tmp/healthy`). */
export function planExec(argv: string[]): ProcessPlan {
  return interpret(statementsOf(argv), 'succeeds');
}

function statementsOf(argv: string[]): string[][] {
  if (argv.length === 0) return [['<image entrypoint>']];
  if (SHELLS.has(basename(argv[0]!)) && argv[1] === '-c') return splitScript(argv[2] ?? '');
  return [argv];
}

function interpret(statements: string[][], unknown: 'runs-forever' | 'succeeds'): ProcessPlan {
  const plan: ProcessPlan = { stdout: [], ignoresTerm: false };
  let afterMs = 0;
  let lastCode = 0;
  for (const words of statements) {
    const [cmd = '', ...rest] = words;
    switch (basename(cmd)) {
      case 'echo':
        plan.stdout.push((rest[0] === '-n' || rest[0] === '-e' ? rest.slice(1) : rest).join(' '));
        lastCode = 0;
        break;
      case 'sleep': {
        const seconds = Number(rest[0]);
        if (!Number.isFinite(seconds)) return plan; // "sleep infinity": never exits
        afterMs += seconds * 1000;
        lastCode = 0;
        break;
      }
      case 'exit':
        plan.exit = { code: exitCodeOf(rest[0] ?? String(lastCode)), afterMs };
        return plan;
      case 'true':
      case ':':
        lastCode = 0;
        break;
      case 'false':
        lastCode = 1;
        break;
      case 'trap':
        plan.ignoresTerm = true;
        lastCode = 0;
        break;
      default:
        if (unknown === 'runs-forever') return plan;
        lastCode = 0;
    }
  }
  plan.exit = { code: lastCode, afterMs };
  return plan;
}

function exitCodeOf(word: string): number {
  const n = Number.parseInt(word, 10);
  return Number.isNaN(n) ? 2 : ((n % 256) + 256) % 256; // the shell keeps the low 8 bits
}

/** Splits a shell script into statements of words: quotes group words, and ; && || & and
 * newlines separate statements. Enough for the one-liners pods carry, not a shell. */
export function splitScript(script: string): string[][] {
  const statements: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endStatement = () => {
    endWord();
    if (words.length) statements.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < script.length) word += script[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < script.length) {
      word += script[++i];
      inWord = true;
    } else if (ch === ';' || ch === '\n' || ch === '&' || ch === '|') {
      if ((ch === '&' || ch === '|') && script[i + 1] === ch) i++;
      endStatement();
    } else if (ch === ' ' || ch === '\t') {
      endWord();
    } else {
      word += ch;
      inWord = true;
    }
  }
  endStatement();
  return statements;
}
