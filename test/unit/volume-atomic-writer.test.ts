// The atomic writer: its plan (what changed) as a table, and the layout it leaves on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanPayloadPath, planWrite, timestampDirPrefix, userVisibleNames, writeAtomically, type Payload } from '../../src/volume/atomic-writer.ts';

const file = (text: string, mode = 0o644) => ({ data: Buffer.from(text), mode });
const payload = (entries: Record<string, string | [string, number]>): Payload =>
  new Map(Object.entries(entries).map(([k, v]) => [k, typeof v === 'string' ? file(v) : file(v[0], v[1])]));

const plans: Array<[string, Payload, Payload | undefined, { write: boolean; removeNames: string[] }]> = [
  ['first write', payload({ a: '1' }), undefined, { write: true, removeNames: [] }],
  ['unchanged', payload({ a: '1', 'd/b': '2' }), payload({ a: '1', 'd/b': '2' }), { write: false, removeNames: [] }],
  ['content changed', payload({ a: '2' }), payload({ a: '1' }), { write: true, removeNames: [] }],
  ['mode changed', payload({ a: ['1', 0o400] }), payload({ a: '1' }), { write: true, removeNames: [] }],
  ['key added', payload({ a: '1', b: '2' }), payload({ a: '1' }), { write: true, removeNames: [] }],
  ['key removed', payload({ a: '1' }), payload({ a: '1', b: '2' }), { write: true, removeNames: ['b'] }],
  ['nested file removed, dir kept', payload({ 'd/a': '1' }), payload({ 'd/a': '1', 'd/b': '2' }), { write: true, removeNames: [] }],
  ['whole dir removed', payload({ a: '1' }), payload({ a: '1', 'd/b': '2' }), { write: true, removeNames: ['d'] }],
  ['emptied', payload({}), payload({ a: '1' }), { write: true, removeNames: ['a'] }],
];
for (const [name, next, current, expected] of plans) {
  test(`atomic writer plan: ${name}`, () => assert.deepEqual(planWrite(next, current), expected));
}

test('atomic writer plan: modes compare after fsGroup ownership adds its bits', () => {
  const onDisk = payload({ token: ['t', 0o640] });
  assert.equal(planWrite(payload({ token: ['t', 0o600] }), onDisk, m => m | 0o440).write, false);
  assert.equal(planWrite(payload({ token: ['t', 0o600] }), onDisk).write, true);
});

const badPaths: Array<[string, RegExp]> = [
  ['', /must not be empty/], ['..', /must not contain '\.\.'/], ['/etc/passwd', /must be relative/], ['a/../b', /must not contain '\.\.'/],
  ['..data', /must not start with '\.\.'/], ['..x/y', /must not start with '\.\.'/], ['x'.repeat(256), /255 characters/],
];
for (const [path, message] of badPaths) {
  test(`atomic writer refuses payload path ${JSON.stringify(path.slice(0, 20))}`, () => assert.throws(() => cleanPayloadPath(path), message));
}

test('atomic writer: paths are cleaned; user-visible names are the top-level parts', () => {
  assert.equal(cleanPayloadPath('a//b/./c/'), 'a/b/c');
  assert.deepEqual([...userVisibleNames(['a', 'd/b', 'd/c/e', 'f/g'])].sort(), ['a', 'd', 'f']);
  assert.equal(timestampDirPrefix(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '..2024_01_02_03_04_05.');
});

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mk-atomic-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const now = new Date(Date.UTC(2024, 4, 1, 12, 0, 0));

test('atomic writer on disk: ..data -> timestamped dir, names link through ..data, modes exact', async (t) => {
  const dir = await tempDir(t);
  assert.equal(await writeAtomically(dir, payload({ a: ['A', 0o400], 'd/e/f': 'F' }), { now }), true);
  const ts = await readlink(join(dir, '..data'));
  assert.match(ts, /^\.\.2024_05_01_12_00_00\..+$/);
  assert.equal(await readlink(join(dir, 'a')), '..data/a');
  assert.equal(await readlink(join(dir, 'd')), '..data/d');
  assert.equal(await readFile(join(dir, 'd/e/f'), 'utf8'), 'F');
  assert.equal((await stat(join(dir, 'a'))).mode & 0o7777, 0o400);
  assert.equal((await stat(join(dir, ts))).mode & 0o7777, 0o755);
  assert.deepEqual((await readdir(dir)).sort(), [ts, '..data', 'a', 'd'].sort());
});

test('atomic writer on disk: unchanged content writes nothing; an update swaps ..data, drops stale names and the old dir', async (t) => {
  const dir = await tempDir(t);
  await writeAtomically(dir, payload({ a: '1', b: '2' }), { now });
  const first = await readlink(join(dir, '..data'));
  const inodeBefore = (await lstat(join(dir, first, 'a'))).ino;
  assert.equal(await writeAtomically(dir, payload({ a: '1', b: '2' }), { now }), false);
  assert.equal(await readlink(join(dir, '..data')), first);
  assert.equal((await lstat(join(dir, first, 'a'))).ino, inodeBefore);

  assert.equal(await writeAtomically(dir, payload({ a: '3', c: '4' }), { now: new Date(now.getTime() + 1000) }), true);
  const second = await readlink(join(dir, '..data'));
  assert.notEqual(second, first);
  assert.equal(await readFile(join(dir, 'a'), 'utf8'), '3');
  assert.equal(await readFile(join(dir, 'c'), 'utf8'), '4');
  assert.deepEqual((await readdir(dir)).sort(), [second, '..data', 'a', 'c'].sort(), 'b and the old timestamped dir are gone');
});

test('atomic writer on disk: an empty payload still makes ..data (optional object missing)', async (t) => {
  const dir = await tempDir(t);
  await writeAtomically(dir, new Map(), { now });
  const ts = await readlink(join(dir, '..data'));
  assert.deepEqual(await readdir(join(dir, ts)), []);
});
