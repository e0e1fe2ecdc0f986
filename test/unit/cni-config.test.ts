import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNetwork, loadNetworkConfigs, parseNetworkConfig } from '../../src/cni/config.ts';
import { CniConfigError } from '../../src/cni/errors.ts';

const bridgeList = {
  cniVersion: '1.0.0',
  name: 'podnet',
  plugins: [{ type: 'bridge', ipam: { type: 'host-local' } }, { type: 'portmap', capabilities: { portMappings: true } }],
};

function rejectsWith(text: string, file: string, field: string) {
  assert.throws(() => parseNetworkConfig(file, text), (err: unknown) => {
    assert.ok(err instanceof CniConfigError, `expected CniConfigError, got ${err}`);
    assert.equal(err.file, file);
    assert.equal(err.field, field);
    assert.ok(err.message.includes(file) && (field === '' || err.message.includes(field)), err.message);
    return true;
  });
}

test('a valid conflist is parsed with its plugins in order', () => {
  const list = parseNetworkConfig('/etc/cni/net.d/10-pod.conflist', JSON.stringify(bridgeList));
  assert.equal(list.name, 'podnet');
  assert.equal(list.cniVersion, '1.0.0');
  assert.deepEqual(list.plugins.map((p) => p.type), ['bridge', 'portmap']);
  assert.equal(list.disableCheck, false);
});

test('a single-plugin .conf becomes a list of one', () => {
  const list = parseNetworkConfig('/d/10.conf', JSON.stringify({ cniVersion: '0.4.0', name: 'one', type: 'bridge', disableCheck: 'true' }));
  assert.deepEqual(list.plugins.map((p) => p.type), ['bridge']);
  assert.equal(list.disableCheck, true);
});

test('cniVersions picks the highest version this library speaks', () => {
  const list = parseNetworkConfig('/d/a.conflist', JSON.stringify({ ...bridgeList, cniVersion: undefined, cniVersions: ['0.4.0', '1.0.0', '9.0.0'] }));
  assert.equal(list.cniVersion, '1.0.0');
});

test('errors name the file and the offending field', () => {
  const f = '/etc/cni/net.d/10-bad.conflist';
  rejectsWith('{ not json', f, '');
  rejectsWith(JSON.stringify({ ...bridgeList, name: undefined }), f, 'name');
  rejectsWith(JSON.stringify({ ...bridgeList, name: 'has space' }), f, 'name');
  rejectsWith(JSON.stringify({ ...bridgeList, cniVersion: undefined }), f, 'cniVersion');
  rejectsWith(JSON.stringify({ ...bridgeList, cniVersion: '0.2.0' }), f, 'cniVersion');
  rejectsWith(JSON.stringify({ ...bridgeList, plugins: [] }), f, 'plugins');
  rejectsWith(JSON.stringify({ ...bridgeList, plugins: [{ type: 'bridge' }, { ipam: {} }] }), f, 'plugins[1].type');
  rejectsWith(JSON.stringify({ ...bridgeList, plugins: [{ type: '../evil' }] }), f, 'plugins[0].type');
  rejectsWith(JSON.stringify({ ...bridgeList, plugins: [{ type: 'portmap', capabilities: { portMappings: 'yes' } }] }), f, 'plugins[0].capabilities');
  rejectsWith(JSON.stringify({ ...bridgeList, disableCheck: 3 }), f, 'disableCheck');
  rejectsWith(JSON.stringify({ cniVersion: '1.0.0', name: 'x' }), '/d/x.conf', 'type');
});

test('a directory is read in lexicographic order; the first network is the default', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cni-conf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, '20-second.conf'), JSON.stringify({ cniVersion: '1.0.0', name: 'second', type: 'bridge' }));
  await writeFile(join(dir, '10-first.conflist'), JSON.stringify({ ...bridgeList, name: 'first' }));
  await writeFile(join(dir, '30-third.json'), JSON.stringify({ cniVersion: '1.0.0', name: 'third', type: 'ptp' }));
  await writeFile(join(dir, 'README.txt'), 'not a config');
  assert.deepEqual((await loadNetworkConfigs(dir)).map((l) => l.name), ['first', 'second', 'third']);
  assert.equal((await loadNetwork(dir)).name, 'first');
  assert.equal((await loadNetwork(dir, 'third')).name, 'third');
  await assert.rejects(loadNetwork(dir, 'missing'), (err: unknown) => err instanceof CniConfigError && err.message.includes('missing'));
});

test('an empty or missing directory is a configuration error naming it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cni-conf-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(loadNetwork(dir), (err: unknown) => err instanceof CniConfigError && err.file === dir);
  await assert.rejects(loadNetwork(join(dir, 'nope')), (err: unknown) => err instanceof CniConfigError && err.file === join(dir, 'nope'));
});
