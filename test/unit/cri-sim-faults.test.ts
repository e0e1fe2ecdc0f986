import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { FaultInjector } from '../../src/cri/sim/faults.ts';

async function outcomes(f: FaultInjector, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await f.before('StartContainer').then(() => 'ok', (e: { code: number }) => status[e.code]!));
  }
  return out;
}

test('nth counts from when the rule is set; times widens the window', async () => {
  const f = new FaultInjector();
  await f.before('StartContainer'); // calls before the rule do not count toward nth
  f.fail('StartContainer', { nth: 2, times: 2, code: status.UNAVAILABLE });
  assert.deepEqual(await outcomes(f, 4), ['ok', 'UNAVAILABLE', 'UNAVAILABLE', 'ok']);
  assert.equal(f.callCount('StartContainer'), 5);
});

test('default: the next call fails once with UNKNOWN; other RPCs are untouched', async () => {
  const f = new FaultInjector();
  f.fail('StartContainer');
  await f.before('StopContainer');
  assert.deepEqual(await outcomes(f, 2), ['UNKNOWN', 'ok']);
});

test('clear() drops pending rules', async () => {
  const f = new FaultInjector();
  f.fail('StartContainer', { times: Infinity });
  f.clear();
  assert.deepEqual(await outcomes(f, 2), ['ok', 'ok']);
});

test('nth and times below 1 are refused', () => {
  const f = new FaultInjector();
  assert.throws(() => f.fail('StartContainer', { nth: 0 }), RangeError);
  assert.throws(() => f.delay('StartContainer', 10, { times: 0 }), RangeError);
});
