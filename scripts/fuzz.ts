// npm run fuzz -- --seed S --count N [--runtime sim|containerd] [--parallel P] [--only I[,J...]]
// [--max-seconds T]: stop submitting after T seconds (also on SIGINT/SIGTERM) and report what ran.
// Runs the pod-spec fuzzer (src/fuzz/) and prints one JSON line: seed, count, accepted, refused,
// outcomes by class, failures (each with its spec index: rerun it with --seed S --only I), leaks
// and agent restarts. Exit code 1 when anything failed, leaked or crashed.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { runFuzz } from '../src/fuzz/runner.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    count: { type: 'string', default: '100' },
    only: { type: 'string' },
    runtime: { type: 'string', default: 'sim' },
    parallel: { type: 'string' },
    'deadline-ms': { type: 'string' },
    keep: { type: 'boolean', default: false },
    'max-seconds': { type: 'string' },
  },
});
const int = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name}: "${v}" is not a non-negative integer\n`);
    process.exit(2);
  }
  return n;
};
const runtime = values.runtime;
if (runtime !== 'sim' && runtime !== 'containerd') {
  process.stderr.write(`--runtime: "${runtime}" is not sim or containerd\n`);
  process.exit(2);
}
const count = int('count', values.count)!;
// A time budget, or SIGINT/SIGTERM: no new specs, the pods in flight finish, the JSON line is printed.
const maxSeconds = int('max-seconds', values['max-seconds']);
const startedAt = Date.now();
let signalled = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (signalled) process.exit(130);
    signalled = true;
    process.stderr.write(`fuzz: ${sig}: finishing the pods in flight (again to quit at once)\n`);
  });
}
let lastShown = 0;
const summary = await runFuzz({
  seed: int('seed', values.seed)!,
  count,
  only: values.only === undefined ? undefined : values.only.split(',').map((i) => int('only', i)!),
  runtime,
  parallel: int('parallel', values.parallel) ?? (runtime === 'sim' ? 20 : 8),
  deadlineMs: int('deadline-ms', values['deadline-ms']),
  keepState: values.keep,
  shouldStop: () => signalled || (maxSeconds !== undefined && Date.now() - startedAt > maxSeconds * 1000),
  logger: pino({ level: process.env.FUZZ_LOG ?? 'warn' }, pino.destination(2)),
  onCase: (done, total) => {
    if (done - lastShown >= Math.max(1, Math.floor(total / 20)) || done === total) {
      lastShown = done;
      process.stderr.write(`fuzz: ${done}/${total}\n`);
    }
  },
});
process.stdout.write(`${JSON.stringify(summary)}\n`);
const bad = summary.failures.length > 0 || summary.leaks.length > 0 || summary.agent_restarts > 0 || !summary.agent_pid_same;
process.exit(bad ? 1 : 0);
