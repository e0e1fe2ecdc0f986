// The helper process that runs mount and umount for the agent (so that its forks are cheap and off
// the agent's event loop): allowed programs only, their failures with exit status and stderr, many
// at once, and a helper that died is started again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createToolRunner } from '../../src/volume/tool-runner.ts';

test('runs the allowed programs, reports failures with status and stderr, refuses the rest', async () => {
  const tools = createToolRunner(['true', 'sh']);
  try {
    await tools.run('true', []);
    await assert.rejects(tools.run('sh', ['-c', 'echo "no such mount point" >&2; exit 32']), /sh -c .*: exit status 32: no such mount point/);
    await assert.rejects(tools.run('ls', ['/']), /ls \/: not allowed/);
    // Arguments travel as a list: nothing in them is parsed by a shell.
    await tools.run('sh', ['-c', 'test "$0" = "a b;c"', 'a b;c']);
    const many = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => tools.run('sh', ['-c', `exit ${i % 2}`])));
    assert.deepEqual(many.map((r) => r.status), Array.from({ length: 20 }, (_, i) => (i % 2 ? 'rejected' : 'fulfilled')));
  } finally {
    tools.stop();
  }
});

test('a helper that ended is started again on the next call', async () => {
  const tools = createToolRunner(['true']);
  await tools.run('true', []);
  tools.stop();
  await tools.run('true', []);
  tools.stop();
});
