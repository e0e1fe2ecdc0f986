import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planExec, planProcess, splitScript } from '../../src/cri/sim/process.ts';

test('sleep N exits 0 after N seconds', () => {
  assert.deepEqual(planProcess(['sleep', '2']), { stdout: [], exit: { code: 0, afterMs: 2000 }, ignoresTerm: false });
  assert.deepEqual(planProcess(['/bin/sleep', '0.5']).exit, { code: 0, afterMs: 500 });
});

test('sh -c "exit N" exits N at once, in any shell spelling', () => {
  assert.deepEqual(planProcess(['sh', '-c', 'exit 3']).exit, { code: 3, afterMs: 0 });
  assert.deepEqual(planProcess(['/bin/sh', '-c', "exit 42"]).exit, { code: 42, afterMs: 0 });
  assert.deepEqual(planProcess(['bash', '-c', 'echo bye; sleep 1; exit 7']), { stdout: ['bye'], exit: { code: 7, afterMs: 1000 }, ignoresTerm: false });
  assert.equal(planProcess(['sh', '-c', 'exit 300']).exit?.code, 44);
});

test('echo writes lines and exits 0; false exits 1', () => {
  assert.deepEqual(planProcess(['echo', 'hello', 'world']), { stdout: ['hello world'], exit: { code: 0, afterMs: 0 }, ignoresTerm: false });
  assert.deepEqual(planProcess(['sh', '-c', 'echo "a; b" && false']).stdout, ['a; b']);
  assert.equal(planProcess(['sh', '-c', 'echo "a; b" && false']).exit?.code, 1);
});

test('servers, loops and the image entrypoint run until stopped', () => {
  assert.equal(planProcess(['nginx', '-g', 'daemon off;']).exit, undefined);
  assert.equal(planProcess([]).exit, undefined);
  assert.equal(planProcess(['sh', '-c', 'echo up; while true; do sleep 1; done']).exit, undefined);
  assert.deepEqual(planProcess(['sh', '-c', 'echo up; while true; do sleep 1; done']).stdout, ['up']);
  assert.equal(planProcess(['sleep', 'infinity']).exit, undefined);
});

test('a trap makes the process outlast SIGTERM', () => {
  assert.equal(planProcess(['sh', '-c', "trap 'echo term' TERM; sleep 3600"]).ignoresTerm, true);
  assert.equal(planProcess(['sleep', '3600']).ignoresTerm, false);
});

test('exec: unknown commands succeed, known ones play out', () => {
  assert.deepEqual(planExec(['cat', '/tmp/healthy']).exit, { code: 0, afterMs: 0 });
  assert.deepEqual(planExec(['sh', '-c', 'exit 1']).exit, { code: 1, afterMs: 0 });
});

test('splitScript honours quotes, escapes and separators', () => {
  assert.deepEqual(splitScript(`echo 'x; y' "z\\"q"; sleep 1 && exit 2\nfalse || true`),
    [['echo', 'x; y', 'z"q'], ['sleep', '1'], ['exit', '2'], ['false'], ['true']]);
  assert.deepEqual(splitScript(`trap "" TERM`), [['trap', '', 'TERM']]);
});
