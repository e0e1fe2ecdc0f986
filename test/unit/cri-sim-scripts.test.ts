// The simulated runtime plays container scripts over time into the CRI log file, as containerd
// would write it: the example talker (`while true; do echo ...; sleep 5; done`) must show up in
// `kubectl logs`, and what the sim cannot play must fail visibly, not run silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimState } from '../../src/cri/sim/state.ts';
import type { SimContainer } from '../../src/cri/sim/containers.ts';

function world(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'sim-scripts-'));
  // The sim's timers are unref'd (they must not hold a process open); this one holds the test's.
  const keepAlive = setInterval(() => {}, 50);
  t.after(() => { clearInterval(keepAlive); rmSync(dir, { recursive: true, force: true }); });
  const state = new SimState({ images: ['busybox:1.36'] });
  const sandbox = state.sandboxes.run({
    metadata: { name: 'two-containers', namespace: 'default', uid: 'u1', attempt: 0 },
    hostname: 'two-containers',
    logDirectory: dir,
  } as never, '');
  let n = 0;
  const start = async (command: string[], envs: Array<{ key: string; value: string }> = []): Promise<SimContainer> => {
    const name = `c${n++}`;
    const c = state.containers.create(sandbox.id, {
      metadata: { name, attempt: 0 },
      image: { image: 'busybox:1.36' },
      command, args: [], envs,
      logPath: `${name}/0.log`,
    } as never);
    await state.containers.start(c.id);
    return c;
  };
  const log = (c: SimContainer) => (existsSync(c.logPath) ? readFileSync(c.logPath, 'utf8') : '');
  const lines = (c: SimContainer) => log(c).split('\n').filter(Boolean).map((l) => l.split(' ').slice(3).join(' '));
  return { state, start, log, lines };
}

const until = async (what: string, cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('the two-containers talker loops: echo with $(hostname), sleep, again', async (t) => {
  const { state, start, log, lines } = world(t);
  const c = await start(['sh', '-c', 'while true; do echo hello from $(hostname); sleep 0.05; done']);
  await until('three lines', () => lines(c).length >= 3);
  assert.deepEqual(lines(c).slice(0, 3), ['hello from two-containers', 'hello from two-containers', 'hello from two-containers']);
  assert.match(log(c).split('\n')[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello from two-containers$/);
  assert.equal(c.state, 'CONTAINER_RUNNING');
  await state.containers.stop(c, 2);
  assert.equal(c.state, 'CONTAINER_EXITED');
  const after = lines(c).length;
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(lines(c).length, after, 'a stopped container writes no more');
});

test('for, until with a counter, env expansion and exit codes', async (t) => {
  const { start, lines } = world(t);
  const c = await start(['sh', '-c', 'for x in a b c; do echo "item $x"; done; i=0; until [ $i -ge 2 ]; do echo "i=$i $GREETING"; i=$((i+1)); done; exit 4'],
    [{ key: 'GREETING', value: 'hi' }]);
  await until('exit', () => c.state === 'CONTAINER_EXITED');
  assert.deepEqual(lines(c), ['item a', 'item b', 'item c', 'i=0 hi', 'i=1 hi']);
  assert.equal(c.exitCode, 4);
});

test('what the sim cannot play fails visibly with 127 and says why', async (t) => {
  const { state, start, log } = world(t);
  const c = await start(['sh', '-c', 'echo start; case x in x) echo y;; esac']);
  await until('exit', () => c.state === 'CONTAINER_EXITED');
  assert.equal(c.exitCode, 127);
  // The script is read whole before it runs (as sh does): nothing of it plays.
  assert.doesNotMatch(log(c), /stdout F start/);
  assert.match(log(c), /stderr F sim-runtime: the simulated runtime does not play `case \.\.\. esac`/);
  // An unknown program in the middle of a script stands for a long-running process: it says so.
  const d = await start(['sh', '-c', 'echo up; my-server --port 80; echo never']);
  await until('the note', () => /my-server/.test(log(d)));
  assert.equal(d.state, 'CONTAINER_RUNNING');
  assert.match(log(d), /stdout F up\n.*stderr F sim-runtime: "my-server" is not a program the simulated runtime plays/s);
  assert.doesNotMatch(log(d), /never/);
  await state.containers.stop(d, 2);
});

test('a tight loop is bounded: it cannot hang the event loop', async (t) => {
  const { state, start, lines } = world(t);
  const c = await start(['sh', '-c', 'while true; do echo spin; done']);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(Date.now() - t0 < 1000, 'timers still fire');
  assert.ok(lines(c).length < 100, `at most ~100 iterations a second, got ${lines(c).length}`);
  await state.containers.stop(c, 2);
});

test('a stop ends the script: at once without a trap (0), after the grace period with one (137)', async (t) => {
  const { state, start, lines } = world(t);
  const plain = await start(['sh', '-c', 'echo up; sleep 3600; echo never']);
  await state.containers.stop(plain, 1);
  assert.equal(plain.exitCode, 0);
  const stubborn = await start(['sh', '-c', "trap 'echo bye' TERM; echo up; sleep 3600"]);
  const t0 = Date.now();
  await state.containers.stop(stubborn, 0.2);
  assert.ok(Date.now() - t0 >= 190, 'it held out for the grace period');
  assert.equal(stubborn.exitCode, 137);
  assert.deepEqual(lines(stubborn), ['up']);
});

test('stderr and redirections land in the log as containerd writes them', async (t) => {
  const { start, log } = world(t);
  const c = await start(['sh', '-c', 'echo out; echo err >&2; echo gone >/dev/null; echo both 2>&1; exit 2']);
  await until('exit', () => c.state === 'CONTAINER_EXITED');
  assert.equal(c.exitCode, 2);
  assert.deepEqual(log(c).split('\n').filter(Boolean).map((l) => l.split(' ').slice(1).join(' ')),
    ['stdout F out', 'stderr F err', 'stdout F both']);
});
