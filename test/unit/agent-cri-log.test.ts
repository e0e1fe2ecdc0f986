import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollFor } from '../../src/world/wait.ts';
import type { V1Pod } from '@kubernetes/client-node';
import {
  attemptFor, chooseLogInstance, findTailStart, parseCriLine, parseLogQuery, parseRfc3339, renderLog, streamLogFile, stripCriLog, tailStartIndex,
  type LogOptions,
} from '../../src/agent/server/cri-log.ts';

test('CRI log prefixes are stripped and partial lines joined', () => {
  const log = [
    '2026-01-01T00:00:00.000000001Z stdout F hello',
    '2026-01-01T00:00:00.000000002Z stderr P par',
    '2026-01-01T00:00:00.000000003Z stderr F tial',
    '2026-01-01T00:00:00.000000004Z stdout F ',
    '',
  ].join('\n');
  assert.equal(stripCriLog(log), 'hello\npartial\n\n');
});

test('CRI lines parse as the kubelet parses them; what is not one is skipped', () => {
  const cases: Array<[string, { time: string; stream: string; partial: boolean; text: string } | undefined]> = [
    ['2026-12-03T14:01:22.123456789Z stdout F hello world', { time: '2026-12-03T14:01:22.123456789Z', stream: 'stdout', partial: false, text: 'hello world' }],
    // containerd trims trailing zeros (RFC3339Nano); the kubelet prints nine digits.
    ['2026-12-03T14:01:22.1Z stderr P par', { time: '2026-12-03T14:01:22.100000000Z', stream: 'stderr', partial: true, text: 'par' }],
    ['2026-12-03T14:01:22Z stdout F  two  spaces ', { time: '2026-12-03T14:01:22.000000000Z', stream: 'stdout', partial: false, text: ' two  spaces ' }],
    // A local offset stays; a zero offset prints as Z (Go's Z07:00).
    ['2026-12-03T16:01:22.5+02:00 stdout F x', { time: '2026-12-03T16:01:22.500000000+02:00', stream: 'stdout', partial: false, text: 'x' }],
    ['2026-12-03T14:01:22.5+00:00 stdout F x', { time: '2026-12-03T14:01:22.500000000Z', stream: 'stdout', partial: false, text: 'x' }],
    ['2026-12-03T14:01:22Z stdout F', { time: '2026-12-03T14:01:22.000000000Z', stream: 'stdout', partial: false, text: '' }],
    ['2026-12-03T14:01:22Z stdout F:future-tag x', { time: '2026-12-03T14:01:22.000000000Z', stream: 'stdout', partial: false, text: 'x' }],
    ['2026-12-03T14:01:22Z stdin F x', undefined],
    ['yesterday stdout F x', undefined],
    ['2026-02-30T00:00:00Z stdout F x', undefined],
    ['2026-12-03T14:01:22Z', undefined],
    ['plain text', undefined],
    ['', undefined],
  ];
  for (const [line, want] of cases) {
    const got = parseCriLine(Buffer.from(line));
    assert.deepEqual(got && { time: got.time, stream: got.stream, partial: got.partial, text: got.text.toString() }, want, line);
  }
  assert.equal(parseRfc3339('2026-12-03T16:01:22+02:00')!.ns, parseRfc3339('2026-12-03T14:01:22Z')!.ns);
  assert.equal(parseRfc3339('1970-01-01T00:00:01.000000002Z')!.ns, 1_000_000_002n);
});

test('the log query is checked as ValidatePodLogOptions checks it', () => {
  const now = Date.parse('2026-12-03T14:00:00Z');
  const ok = (q: string) => {
    const r = parseLogQuery(new URLSearchParams(q), now);
    assert.ok(r.ok, `${q}: ${!r.ok && r.message}`);
    return r;
  };
  assert.deepEqual(ok(''), { ok: true, options: { follow: false, timestamps: false }, previous: false });
  assert.deepEqual(ok('follow=true&timestamps=1&previous=True'), { ok: true, options: { follow: true, timestamps: true }, previous: true });
  assert.deepEqual(ok('follow=false&timestamps=0&previous='), { ok: true, options: { follow: false, timestamps: false }, previous: false });
  assert.equal(ok('tailLines=0').options.tailLines, 0);
  assert.equal(ok('tailLines=%2B3').options.tailLines, 3);
  assert.equal(ok('tail=5').options.tailLines, 5);
  assert.equal(ok('tail=all&tailLines=2').options.tailLines, undefined);
  assert.equal(ok('limitBytes=10').options.limitBytes, 10);
  assert.equal(ok('sinceSeconds=60').options.sinceNs, BigInt(now - 60_000) * 1_000_000n);
  assert.equal(ok('sinceTime=2026-12-03T13:00:00Z').options.sinceNs, BigInt(now - 3_600_000) * 1_000_000n);

  const bad: Array<[string, RegExp]> = [
    ['tailLines=-1', /tailLines: Invalid value: -1: must be greater than or equal to 0/],
    ['tailLines=ten', /tailLines: Invalid value: "ten": must be an integer/],
    ['tailLines=1e3', /tailLines.*must be an integer/],
    ['tailLines=99999999999999999999', /tailLines.*must be an integer/],
    ['limitBytes=0', /limitBytes: Invalid value: 0: must be greater than 0/],
    ['sinceSeconds=0', /sinceSeconds: Invalid value: 0: must be greater than 0/],
    ['sinceTime=garbage', /sinceTime: Invalid value: "garbage": must be an RFC 3339 time/],
    ['sinceTime=2026-13-01T00:00:00Z', /sinceTime: Invalid value/],
    ['sinceSeconds=10&sinceTime=2026-12-03T13:00:00Z', /at most one of `sinceTime` or `sinceSeconds` may be specified/],
  ];
  for (const [q, want] of bad) {
    const r = parseLogQuery(new URLSearchParams(q), now);
    assert.equal(r.ok, false, q);
    assert.match(!r.ok ? r.message : '', want, q);
  }
});

const file = [
  '2026-12-03T14:00:01.000000001Z stdout F one',
  '2026-12-03T14:00:02.5Z stderr F two',
  '2026-12-03T14:00:03Z stdout P thr',
  '2026-12-03T14:00:03.1Z stdout F ee',
  'not a CRI line',
  '2026-12-03T14:00:04Z stdout F four',
  '',
].join('\n');
const at = (t: string) => parseRfc3339(t)!.ns;

test('tail, since, limitBytes and timestamps select what the kubelet would write', () => {
  const cases: Array<[string, Partial<LogOptions>, string]> = [
    ['everything', {}, 'one\ntwo\nthree\nfour\n'],
    ['tail counts lines of the file', { tailLines: 1 }, 'four\n'],
    ['a partial line is a file line of its own', { tailLines: 3 }, 'ee\nfour\n'],
    ['lines that are not CRI lines count too', { tailLines: 4 }, 'three\nfour\n'],
    ['tail 0', { tailLines: 0 }, ''],
    ['tail past the start', { tailLines: 100 }, 'one\ntwo\nthree\nfour\n'],
    ['since skips older entries', { sinceNs: at('2026-12-03T14:00:02.5Z') }, 'two\nthree\nfour\n'],
    ['since past the end', { sinceNs: at('2026-12-03T15:00:00Z') }, ''],
    ['limitBytes cuts mid-line', { limitBytes: 6 }, 'one\ntw'],
    ['limitBytes exactly a line', { limitBytes: 4 }, 'one\n'],
    ['timestamps, nine digits, once per joined line', { timestamps: true, tailLines: 5 },
      '2026-12-03T14:00:02.500000000Z two\n2026-12-03T14:00:03.000000000Z three\n2026-12-03T14:00:04.000000000Z four\n'],
    ['limitBytes counts the timestamp', { timestamps: true, limitBytes: 35 }, '2026-12-03T14:00:01.000000001Z one\n'],
    ['tail and since together', { tailLines: 2, sinceNs: at('2026-12-03T14:00:04Z') }, 'four\n'],
  ];
  for (const [name, opts, want] of cases) {
    assert.equal(renderLog(Buffer.from(file), { follow: false, timestamps: false, ...opts }).toString(), want, name);
  }
  assert.equal(renderLog(Buffer.from('2026-12-03T14:00:01Z stdout F a\n2026-12-03T14:00:01Z stdout F b'), { follow: false, timestamps: false, tailLines: 1 }).toString(), 'b\n',
    'a last line without its newline is a line');
});

test('the tail of a file is found reading backwards in blocks, as in memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cri-log-tail-'));
  try {
    for (const content of [file, '', '\n', 'a\nb', 'a\n\n\nb\n', 'x'.repeat(50) + '\n' + 'y'.repeat(30) + '\n']) {
      const path = join(dir, '0.log');
      writeFileSync(path, content);
      const fh = await open(path, 'r');
      try {
        for (const lines of [0, 1, 2, 3, 5, 100]) {
          for (const blockSize of [1, 3, 7, 64 * 1024]) {
            assert.equal(await findTailStart(fh, Buffer.byteLength(content), lines, blockSize), tailStartIndex(Buffer.from(content), lines),
              `${JSON.stringify(content.slice(0, 20))} tail ${lines} block ${blockSize}`);
          }
        }
      } finally {
        await fh.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const podWith = (status: V1Pod['status']): V1Pod => ({ metadata: { name: 'web', uid: 'u' }, spec: { containers: [{ name: 'app' }] }, status });

test('the instance whose log is served is the one the kubelet would choose', () => {
  const running = { running: { startedAt: new Date() } };
  const last = { terminated: { exitCode: 1, containerID: 'containerd://old' } };
  const cases: Array<[string, V1Pod['status'], boolean, unknown]> = [
    ['no status yet: the files decide', {}, false, undefined],
    ['running', { containerStatuses: [{ name: 'app', containerID: 'containerd://new', state: running, restartCount: 2, image: '', imageID: '', ready: true }] }, false,
      { ok: true, containerId: 'containerd://new', newest: true, restartCount: 2 }],
    ['previous of a running one', { containerStatuses: [{ name: 'app', containerID: 'containerd://new', state: running, lastState: last, restartCount: 2, image: '', imageID: '', ready: true }] }, true,
      { ok: true, containerId: 'containerd://old', newest: false, restartCount: 2 }],
    ['no previous', { containerStatuses: [{ name: 'app', containerID: 'containerd://new', state: running, restartCount: 0, image: '', imageID: '', ready: true }] }, true,
      { ok: false, message: 'previous terminated container "app" in pod "web" not found' }],
    ['in back-off: its last run, for both', { containerStatuses: [{ name: 'app', containerID: 'containerd://old', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: last, restartCount: 1, image: '', imageID: '', ready: false }] }, false,
      { ok: true, containerId: 'containerd://old', newest: true, restartCount: 1 }],
    ['waiting to start', { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } }, restartCount: 0, image: '', imageID: '', ready: false }] }, false,
      { ok: false, message: 'container "app" in pod "web" is waiting to start: ContainerCreating' }],
    ['image not pulled', { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ImagePullBackOff' } }, restartCount: 0, image: '', imageID: '', ready: false }] }, false,
      { ok: false, message: 'container "app" in pod "web" is waiting to start: trying and failing to pull image' }],
    ['another container has a status, this one not', { containerStatuses: [{ name: 'other', state: running, restartCount: 0, image: '', imageID: '', ready: true }] }, false,
      { ok: false, message: 'container "app" in pod "web" is not available' }],
  ];
  for (const [name, status, previous, want] of cases) assert.deepEqual(chooseLogInstance(podWith(status), 'app', previous), want, name);

  assert.equal(attemptFor([2, 1, 0], { ok: true, containerId: 'x', newest: true, restartCount: 2 }, false), 2);
  assert.equal(attemptFor([3, 2, 1], { ok: true, containerId: 'x', newest: true, restartCount: 2 }, false), 2, 'a newer file the status has not shown yet is not served');
  assert.equal(attemptFor([2, 1, 0], { ok: true, containerId: 'x', newest: false, restartCount: 2 }, true), 1);
  assert.equal(attemptFor([2, 0], { ok: true, containerId: 'x', newest: false, restartCount: 2 }, true), 0);
  assert.equal(attemptFor([1, 0], undefined, false), 1);
  assert.equal(attemptFor([1, 0], undefined, true), 0);
  assert.equal(attemptFor([0], undefined, true), undefined);
});

test('following a file streams what is appended and ends once the container stopped and the file is drained', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cri-log-follow-'));
  try {
    const path = join(dir, '0.log');
    writeFileSync(path, '2026-12-03T14:00:01Z stdout F first\n');
    const got: string[] = [];
    let running = true;
    let wrote: () => void = () => {};
    const fh = await open(path, 'r');
    const done = streamLogFile(fh, path, {
      follow: true, timestamps: false, recheckMs: 50, signal: new AbortController().signal,
      running: () => running,
      write: async (chunk) => {
        got.push(chunk.toString());
        wrote();
      },
    });
    const next = () => new Promise<void>((r) => (wrote = r));
    let seen = next();
    await seen;
    assert.deepEqual(got, ['first\n']);
    seen = next();
    // Half a line first: nothing until its end arrives.
    appendFileSync(path, '2026-12-03T14:00:02Z stdout F sec');
    appendFileSync(path, 'ond\n');
    await seen;
    assert.deepEqual(got, ['first\n', 'second\n']);
    appendFileSync(path, '2026-12-03T14:00:03Z stdout F last\n');
    running = false;
    await done;
    assert.deepEqual(got, ['first\n', 'second\n', 'last\n']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a follower stops when its client goes, and tailLines=0 with follow shows only new lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cri-log-abort-'));
  try {
    const path = join(dir, '0.log');
    writeFileSync(path, '2026-12-03T14:00:01Z stdout F old\n');
    const gone = new AbortController();
    const got: string[] = [];
    const fh = await open(path, 'r');
    const done = streamLogFile(fh, path, {
      follow: true, timestamps: false, tailLines: 0, recheckMs: 50, signal: gone.signal,
      running: () => true,
      write: async (chunk) => {
        got.push(chunk.toString());
      },
    });
    // The follower starts at the end of the file as it finds it: append until a line comes through
    // (a line appended before it looked is, rightly, not shown).
    let n = 0;
    await pollFor(() => {
      if (got.length) return true;
      appendFileSync(path, `2026-12-03T14:00:02Z stdout F new-${n++}\n`);
      return false;
    }, { timeoutMs: 10_000, intervalMs: 50, what: 'a line appended after the follower started' });
    gone.abort();
    await done;
    assert.ok(got.length >= 1 && got.every((l) => /^new-\d+\n$/.test(l)), `only new lines: ${JSON.stringify(got)}`);
    // The handle is closed: reading from it now fails.
    await assert.rejects(fh.stat());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
