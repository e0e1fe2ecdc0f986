// The simulated runtime runs no processes: it reads a container's command and plays what it
// would do, with the small shell in shell.ts: echo/printf, sleep, exit codes, variables,
// while/until/for loops, if, && and ||, $(...). A container's main process plays over time
// (containers.ts drives it on timers and writes its output to the CRI log file); ExecSync and
// `kubectl exec` play at once (planExec). What a plan cannot play fails visibly with 127.
// src/cri/sim/README.md lists exactly what is played.
import { basename } from 'node:path';
import { argvNode, parseScript, play, runAtOnce, ShellUnsupported, type Effect, type ShellContext } from './shell.ts';

export { exitCodeOf } from './shell.ts';

/** Exit status of a container whose command the sim cannot play (sh's "command not found"). */
export const UNPLAYABLE_EXIT_CODE = 127;

export interface ProcessPlan {
  /** Starts playing: a generator of effects that returns the exit status. */
  run(env: ProcessEnv): Generator<Effect, number>;
  /** Set once the script installs a signal handler (`trap`): SIGTERM does not end it, so a
   * stop ends it only when the grace period runs out, with SIGKILL (exit 137). */
  ignoresTerm: boolean;
}

export interface ProcessEnv {
  hostname: string;
  /** The container's environment (ContainerConfig envs). */
  env: Array<{ key: string; value: string }>;
}

export const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'busybox-sh']);

/** Plan for a container's main process, from ContainerConfig command + args. */
export function planProcess(argv: string[]): ProcessPlan {
  const plan: ProcessPlan = {
    ignoresTerm: false,
    run: (env) => playMain(argv, env, plan),
  };
  return plan;
}

function* playMain(argv: string[], env: ProcessEnv, plan: ProcessPlan): Generator<Effect, number> {
  if (argv.length === 0) {
    yield { k: 'out', stream: 'stderr', text: "sim-runtime: no command: the image's own entrypoint stands for a long-running process (no output) and runs until stopped" };
    yield { k: 'forever' };
    return 0;
  }
  let node;
  try {
    node = isShellC(argv) ? parseScript(argv[2] ?? '') : argvNode(argv);
  } catch (err) {
    if (!(err instanceof ShellUnsupported)) throw err;
    yield { k: 'out', stream: 'stderr', text: unplayable(err) };
    return UNPLAYABLE_EXIT_CODE;
  }
  const ctx = contextFor(env, 'process');
  try {
    const script = play(node, ctx);
    for (let next = script.next(); ; next = script.next()) {
      if (next.done) return next.value;
      if (next.value.k === 'trap') plan.ignoresTerm = true;
      yield next.value;
    }
  } catch (err) {
    if (!(err instanceof ShellUnsupported)) throw err;
    yield { k: 'out', stream: 'stderr', text: unplayable(err) };
    return UNPLAYABLE_EXIT_CODE;
  }
}

/** What ExecSync and the streaming server play: at once, with output collected. */
export interface ExecPlan {
  stdout: string[];
  stderr: string[];
  /** Exit status after `afterMs` (the script's sleeps); absent: it runs until stopped. */
  exit?: { code: number; afterMs: number };
}

/** Plan for ExecSync: unknown commands succeed at once (probes such as `cat /tmp/healthy`). */
export function planExec(argv: string[], env: ProcessEnv = { hostname: 'localhost', env: [] }): ExecPlan {
  const plan: ExecPlan = { stdout: [], stderr: [] };
  try {
    const node = isShellC(argv) ? parseScript(argv[2] ?? '') : argvNode(argv.length ? argv : ['true']);
    const ctx = contextFor(env, 'exec');
    const result = runAtOnce(node, ctx, (e) => { if (e.k === 'out') plan[e.stream].push(e.text); });
    if (result.code !== undefined) plan.exit = { code: result.code, afterMs: result.sleptMs };
  } catch (err) {
    if (!(err instanceof ShellUnsupported)) throw err;
    plan.stderr.push(unplayable(err, 'the command'));
    plan.exit = { code: UNPLAYABLE_EXIT_CODE, afterMs: 0 };
  }
  return plan;
}

function isShellC(argv: string[]): boolean {
  return SHELLS.has(basename(argv[0] ?? '')) && argv[1] === '-c';
}

function contextFor(env: ProcessEnv, mode: ShellContext['mode']): ShellContext {
  const vars = new Map<string, string>([
    ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    ['HOME', '/root'],
    ['HOSTNAME', env.hostname],
  ]);
  for (const { key, value } of env.env) vars.set(key, value);
  return { vars, hostname: env.hostname, mode, files: new Map(), lastCode: 0 };
}

function unplayable(err: Error, who = 'the container'): string {
  return `sim-runtime: the simulated runtime does not play ${err.message}; ${who} exits ${UNPLAYABLE_EXIT_CODE} (see src/cri/sim/README.md for what it plays)`;
}
