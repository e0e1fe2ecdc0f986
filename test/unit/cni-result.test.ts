import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CniPluginError } from '../../src/cni/errors.ts';
import { ipsOfResult, NO_ERROR_OBJECT_CODE, parseCniError, parseResult, resultAsVersion } from '../../src/cni/result.ts';

const v040 = {
  cniVersion: '0.4.0',
  interfaces: [{ name: 'cni0', mac: 'aa:bb:cc:dd:ee:ff' }, { name: 'eth0', sandbox: '/var/run/netns/x' }],
  ips: [{ version: '4', address: '10.22.0.5/16', gateway: '10.22.0.1', interface: 1 }, { version: '6', address: 'fd00::5/64', interface: 1 }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.22.0.1' }],
  dns: { nameservers: ['10.0.0.10'] },
};

test('a 0.4.0 result is held in the 1.0 shape (no per-IP version)', () => {
  const r = parseResult(v040, '0.4.0');
  assert.equal(r.cniVersion, '0.4.0');
  assert.deepEqual(r.ips, [{ address: '10.22.0.5/16', gateway: '10.22.0.1', interface: 1 }, { address: 'fd00::5/64', interface: 1 }]);
  assert.deepEqual(r.routes, [{ dst: '0.0.0.0/0', gw: '10.22.0.1' }]);
  assert.deepEqual(ipsOfResult(r), ['10.22.0.5', 'fd00::5']);
});

test('results convert between 1.0.0 and 0.3.x/0.4.0', () => {
  const r = parseResult(v040, '0.4.0');
  const as100 = resultAsVersion(r, '1.0.0');
  assert.equal(as100.cniVersion, '1.0.0');
  assert.deepEqual((as100.ips as Array<Record<string, unknown>>).map((ip) => ip.version), [undefined, undefined]);
  const as031 = resultAsVersion(parseResult(as100, '1.0.0'), '0.3.1');
  assert.equal(as031.cniVersion, '0.3.1');
  assert.deepEqual((as031.ips as Array<Record<string, unknown>>).map((ip) => ip.version), ['4', '6']);
  assert.deepEqual(as031.dns, { nameservers: ['10.0.0.10'] });
  assert.throws(() => resultAsVersion(r, '0.2.0'), (e: unknown) => e instanceof CniPluginError && e.code === 1);
});

test('a missing cniVersion falls back to the configured one; unknown versions and bad shapes are decode errors', () => {
  assert.equal(parseResult({ ips: [] }, '1.0.0').cniVersion, '1.0.0');
  assert.throws(() => parseResult({ cniVersion: '0.2.0', ip4: {} }, '1.0.0'), (e: unknown) => e instanceof CniPluginError && e.code === 1);
  assert.throws(() => parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.1' }] }, '1.0.0', 'bridge'), (e: unknown) => e instanceof CniPluginError && e.code === 6 && e.plugin === 'bridge');
  assert.throws(() => parseResult('nope', '1.0.0'), CniPluginError);
});

test('a plugin error object becomes a typed error with code, msg and details', () => {
  const e = parseCniError(JSON.stringify({ cniVersion: '1.0.0', code: 11, msg: 'busy', details: 'lock held' }), '', 'host-local', 'exit 1');
  assert.equal(e.code, 11);
  assert.equal(e.msg, 'busy');
  assert.equal(e.details, 'lock held');
  assert.equal(e.plugin, 'host-local');
  assert.deepEqual(e.toCniJson('0.4.0'), { cniVersion: '0.4.0', code: 11, msg: 'busy', details: 'lock held' });
  const crash = parseCniError('panic: oops', 'stack trace', 'bridge', 'exited with code 2');
  assert.equal(crash.code, NO_ERROR_OBJECT_CODE);
  assert.equal(crash.msg, 'exited with code 2');
  assert.equal(crash.details, 'stack trace');
});
