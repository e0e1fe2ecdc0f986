// Termination messages: the file, and the log tail fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTerminationMessageFile, readTerminationMessage } from '../../src/cri/runtime-manager/termination-message.ts';

async function tempDir(t: import('node:test').TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tmsg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the message file is created empty and world-writable under pods/<uid>/containers/<name>', async (t) => {
  const dir = await tempDir(t);
  const path = await createTerminationMessageFile(dir, 'u-1', 'app');
  assert.equal(join(path, '..'), join(dir, 'pods', 'u-1', 'containers', 'app'));
  assert.equal((await stat(path)).size, 0);
  assert.equal((await stat(path)).mode & 0o777, 0o666);
  await createTerminationMessageFile(dir, 'u-1', 'app');
  assert.equal((await readdir(join(dir, 'pods', 'u-1', 'containers', 'app'))).length, 2);
});

test('the message is the file content, at most 4096 bytes', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'msg');
  await writeFile(file, 'x'.repeat(5000));
  assert.equal((await readTerminationMessage({ messageFile: file, policy: 'File', exitCode: 1 })).length, 4096);
});

test('FallbackToLogsOnError: the log tail when the file is empty and the container failed', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'msg');
  const log = join(dir, '0.log');
  await writeFile(file, '');
  await writeFile(log, '2026-11-23T10:00:00.000000000Z stdout F first line\n2026-11-23T10:00:00.100000000Z stderr P part one \n2026-11-23T10:00:00.200000000Z stderr F and two\n');
  assert.equal(await readTerminationMessage({ messageFile: file, policy: 'FallbackToLogsOnError', exitCode: 1, logPath: log }), 'first line\npart one and two\n');
  // Not on success, and not under policy File.
  assert.equal(await readTerminationMessage({ messageFile: file, policy: 'FallbackToLogsOnError', exitCode: 0, logPath: log }), '');
  assert.equal(await readTerminationMessage({ messageFile: file, policy: 'File', exitCode: 1, logPath: log }), '');
  // The file wins when it has content.
  await writeFile(file, 'from file');
  assert.equal(await readTerminationMessage({ messageFile: file, policy: 'FallbackToLogsOnError', exitCode: 1, logPath: log }), 'from file');
});

test('only the last 80 log lines and 2048 bytes', async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, '0.log');
  await writeFile(log, Array.from({ length: 100 }, (_, i) => `2026-11-23T10:00:00Z stdout F line ${i}`).join('\n') + '\n');
  const tail = await readTerminationMessage({ policy: 'FallbackToLogsOnError', exitCode: 2, logPath: log });
  assert.ok(tail.startsWith('line 20\n') && tail.endsWith('line 99\n'), tail.slice(0, 40));
  await writeFile(log, Array.from({ length: 50 }, () => `2026-11-23T10:00:00Z stdout F ${'y'.repeat(100)}`).join('\n') + '\n');
  assert.equal(Buffer.byteLength(await readTerminationMessage({ policy: 'FallbackToLogsOnError', exitCode: 2, logPath: log })), 2048);
});
