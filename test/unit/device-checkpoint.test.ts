// The allocation checkpoint: a round trip keeps everything; damage is reported, not trusted.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeCheckpoint, encodeCheckpoint, readCheckpoint, writeCheckpoint, type CheckpointData } from '../../src/device/checkpoint.ts';

const data: CheckpointData = {
  allocations: [{
    podUid: 'uid-1', podName: 'p', podNamespace: 'default', containerName: 'main', resource: 'example.com/fpga', deviceIds: ['fpga0'],
    response: { envs: { EXAMPLE_COM_FPGA: 'fpga0' }, mounts: [], devices: [{ container_path: '/dev/fpga0', host_path: '/x/fpga0', permissions: 'rw' }], annotations: {}, cdi_devices: [] },
  }],
  registeredDevices: { 'example.com/fpga': ['fpga0', 'fpga1'] },
};

describe('device checkpoint', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'mk-ckpt-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('round trip through a file keeps allocations and registered devices', async () => {
    const path = join(dir, 'kubelet_internal_checkpoint');
    await writeCheckpoint(path, data);
    assert.deepEqual(await readCheckpoint(path), { ok: true, data });
  });

  test('a missing file is a fresh start', async () => {
    assert.deepEqual(await readCheckpoint(join(dir, 'absent')), { ok: true, data: { allocations: [], registeredDevices: {} } });
  });

  test('an edited file fails the checksum and is reported', async () => {
    const path = join(dir, 'edited');
    await writeCheckpoint(path, data);
    const text = (await readFile(path, 'utf8')).replace('"fpga0"', '"fpga1"');
    await writeFile(path, text);
    assert.deepEqual(await readCheckpoint(path), { ok: false, error: 'checkpoint checksum mismatch: the file is corrupt' });
  });

  test('truncated or foreign content is reported, not thrown', () => {
    const truncated = decodeCheckpoint(encodeCheckpoint(data).slice(0, 40));
    assert.equal(truncated.ok, false);
    assert.match((truncated as { error: string }).error, /not JSON/);
    assert.deepEqual(decodeCheckpoint('{"Data":{},"Checksum":1}'), { ok: false, error: 'checkpoint has an unknown layout' });
  });
});
