import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planExec, planProcess } from '../../src/cri/sim/process.ts';

/** Plays a main process without timers: its output, the time its sleeps take, and how it ends
 * (exit, or 'forever'), cut off after `steps` effects (loops). */
function summarize(argv: string[], steps = 1000, env: Array<{ key: string; value: string }> = []) {
  const plan = planProcess(argv);
  const script = plan.run({ hostname: 'pod-a', env });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let afterMs = 0;
  for (let n = 0; n < steps; n++) {
    const next = script.next();
    if (next.done) return { stdout, stderr, exit: { code: next.value, afterMs }, ignoresTerm: plan.ignoresTerm };
    const e = next.value;
    if (e.k === 'out') (e.stream === 'stdout' ? stdout : stderr).push(e.text);
    else if (e.k === 'sleep') afterMs += e.ms;
    else if (e.k === 'forever') return { stdout, stderr, exit: 'forever' as const, afterMs, ignoresTerm: plan.ignoresTerm };
  }
  return { stdout, stderr, exit: 'still running' as const, afterMs, ignoresTerm: plan.ignoresTerm };
}

test('sleep N exits 0 after N seconds', () => {
  assert.deepEqual(summarize(['sleep', '2']), { stdout: [], stderr: [], exit: { code: 0, afterMs: 2000 }, ignoresTerm: false });
  assert.deepEqual(summarize(['/bin/sleep', '0.5']).exit, { code: 0, afterMs: 500 });
  assert.deepEqual(summarize(['sleep', '1m']).exit, { code: 0, afterMs: 60_000 });
});

test('sh -c "exit N" exits N at once, in any shell spelling', () => {
  assert.deepEqual(summarize(['sh', '-c', 'exit 3']).exit, { code: 3, afterMs: 0 });
  assert.deepEqual(summarize(['/bin/sh', '-c', 'exit 42']).exit, { code: 42, afterMs: 0 });
  assert.deepEqual(summarize(['bash', '-c', 'echo bye; sleep 1; exit 7']), { stdout: ['bye'], stderr: [], exit: { code: 7, afterMs: 1000 }, ignoresTerm: false });
  assert.equal((summarize(['sh', '-c', 'exit 300']).exit as { code: number }).code, 44);
});

test('echo writes lines and exits 0; false exits 1; && and || chain', () => {
  assert.deepEqual(summarize(['echo', 'hello', 'world']), { stdout: ['hello world'], stderr: [], exit: { code: 0, afterMs: 0 }, ignoresTerm: false });
  assert.deepEqual(summarize(['sh', '-c', 'echo "a; b" && false']).stdout, ['a; b']);
  assert.equal((summarize(['sh', '-c', 'echo "a; b" && false']).exit as { code: number }).code, 1);
  assert.deepEqual(summarize(['sh', '-c', 'false || echo rescued; true && echo yes; false && echo no']).stdout, ['rescued', 'yes']);
  assert.deepEqual(summarize(['sh', '-c', `echo 'x; y' "z\\"q"; echo err >&2`]), { stdout: ['x; y z"q'], stderr: ['err'], exit: { code: 0, afterMs: 0 }, ignoresTerm: false });
});

test('variables: the environment, $(hostname), assignments, $((arith)), ${X:-default}, $?', () => {
  assert.deepEqual(summarize(['sh', '-c', 'echo hello from $(hostname) $HOSTNAME $NAME'], 100, [{ key: 'NAME', value: 'Ada' }]).stdout, ['hello from pod-a pod-a Ada']);
  assert.deepEqual(summarize(['sh', '-c', 'n=2; echo $((n * 3 + 1)) ${MISSING:-dflt} "$MISSING"x; false; echo $?']).stdout, ['7 dflt x', '1']);
  assert.deepEqual(summarize(['sh', '-c', "echo '$HOME' \\$HOME $HOME"]).stdout, ['$HOME $HOME /root']);
});

test('loops: while true with a sleep keeps going; for and until end; break', () => {
  const talker = summarize(['sh', '-c', 'while true; do echo tick; sleep 5; done'], 6);
  assert.deepEqual(talker.stdout, ['tick', 'tick', 'tick']);
  assert.equal(talker.exit, 'still running');
  assert.equal(talker.afterMs, 15_000);
  assert.deepEqual(summarize(['sh', '-c', 'for x in a "b c" d; do echo $x; done']).stdout, ['a', 'b c', 'd']);
  assert.deepEqual(summarize(['sh', '-c', 'i=0; while [ $i -lt 3 ]; do i=$((i+1)); if [ $i = 2 ]; then continue; fi; echo $i; done']).stdout, ['1', '3']);
  assert.deepEqual(summarize(['sh', '-c', 'i=5; until [ "$i" -eq 0 ]; do echo $i; i=$((i-1)); [ $i -eq 3 ] && break; done; echo done']).stdout, ['5', '4', 'done']);
  // A loop iteration that does not sleep takes 10 ms: a tight loop is bounded.
  const tight = summarize(['sh', '-c', 'while :; do echo spin; done'], 20);
  assert.equal(tight.afterMs, 100);
});

test('files the script writes: touch, >, cat, [ -f ]', () => {
  assert.deepEqual(summarize(['sh', '-c', 'echo ok > /tmp/state; cat /tmp/state; touch /tmp/ready; [ -f /tmp/ready ] && echo ready; [ -f /nope ] || echo absent']).stdout, ['ok', 'ready', 'absent']);
});

test('servers, unknown programs and the image entrypoint run until stopped, and say so', () => {
  const nginx = summarize(['nginx', '-g', 'daemon off;']);
  assert.equal(nginx.exit, 'forever');
  assert.match(nginx.stderr[0]!, /"nginx" is not a program the simulated runtime plays.*runs until stopped/);
  assert.equal(summarize([]).exit, 'forever');
  assert.match(summarize([]).stderr[0]!, /image's own entrypoint/);
  assert.equal(summarize(['sleep', 'infinity']).exit, 'forever');
  assert.deepEqual(summarize(['sh', '-c', 'touch /tmp/ready; sleep 3600']).exit, { code: 0, afterMs: 3_600_000 });
});

test('constructs it does not play fail with 127 and a line that names them', () => {
  for (const [script, what] of [
    ['echo a | grep a', 'pipes'],
    ['sleep 10 &', 'background jobs'],
    ['case $x in a) echo a;; esac', 'case'],
    ['f() { echo x; }; f', 'functions'],
    ['cat <<EOF\nx\nEOF', 'here-documents'],
    ['(echo sub)', 'subshells'],
    ['echo `date`', 'backquote'],
    ['[[ -n x ]] && echo y', '[['],
  ] as const) {
    const r = summarize(['sh', '-c', script]);
    assert.deepEqual(r.exit, { code: 127, afterMs: 0 }, script);
    assert.match(r.stderr[0]!, new RegExp(`sim-runtime: the simulated runtime does not play .*${what.replace(/[[\]]/g, '\\$&')}`), script);
    assert.deepEqual(r.stdout, [], script);
  }
});

test('a trap makes the process outlast SIGTERM', () => {
  assert.equal(summarize(['sh', '-c', "trap 'echo term' TERM; sleep 3600"]).ignoresTerm, true);
  assert.equal(summarize(['sh', '-c', 'trap "" TERM; sleep 3600']).ignoresTerm, true);
  assert.equal(summarize(['sleep', '3600']).ignoresTerm, false);
});

test('exec: unknown commands succeed, known ones play out', () => {
  assert.deepEqual(planExec(['cat', '/tmp/healthy']).exit, { code: 0, afterMs: 0 });
  assert.deepEqual(planExec(['sh', '-c', 'exit 1']).exit, { code: 1, afterMs: 0 });
  assert.deepEqual(planExec(['sh', '-c', 'for i in 1 2; do echo $i; done; sleep 1']), { stdout: ['1', '2'], stderr: [], exit: { code: 0, afterMs: 1000 } });
  assert.equal(planExec(['sh', '-c', 'echo a | wc -l']).exit?.code, 127);
  // A loop that never ends is cut off instead of hanging the runtime.
  assert.equal(planExec(['sh', '-c', 'while true; do echo x; done']).exit?.code, 137);
});
