// The API client's rate limit: a token bucket whose waiters reserve their slots (each sleeps
// once, in order), and client-go's reading of a QPS or Burst of 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/agent/util/token-bucket.ts';
import { effectiveApiRateLimit } from '../../src/agent/api/api-rate-limit.ts';

test('reservations: the burst at once, then one slot every 1/qps s, in order, refilled by quiet time up to the burst', () => {
  const table: Array<{ name: string; qps: number; burst: number; steps: Array<[atMs: number, waitMs: number]> }> = [
    { name: 'qps 5 burst 1: 200 ms apart', qps: 5, burst: 1, steps: [[0, 0], [0, 200], [0, 400], [0, 600]] },
    { name: 'qps 10 burst 3: three at once, then 100 ms apart', qps: 10, burst: 3, steps: [[0, 0], [0, 0], [0, 0], [0, 100], [0, 200]] },
    { name: 'time that passed pays for waits', qps: 5, burst: 1, steps: [[0, 0], [0, 200], [100, 300], [1000, 0]] },
    { name: 'a long quiet spell refills no more than the burst', qps: 5, burst: 2, steps: [[0, 0], [60_000, 0], [60_000, 0], [60_000, 200]] },
    { name: 'fractions of a token round the wait up', qps: 3, burst: 1, steps: [[0, 0], [0, 334], [0, 667]] },
  ];
  for (const { name, qps, burst, steps } of table) {
    let now = 0;
    const bucket = new TokenBucket(qps, burst, () => now);
    const waits = steps.map(([at]) => {
      now = at;
      return bucket.reserve();
    });
    assert.deepEqual(waits, steps.map(([, w]) => w), name);
  }
});

test('a bucket that could never hand out a token is refused', () => {
  for (const [qps, burst] of [[0, 1], [-1, 1], [5, 0], [Number.NaN, 1]]) {
    assert.throws(() => new TokenBucket(qps!, burst!), RangeError, `qps ${qps} burst ${burst}`);
  }
});

test('take() waits for its own slot: five takes at qps 50 burst 1 span about 80 ms and finish in order', async () => {
  const bucket = new TokenBucket(50, 1);
  const done: number[] = [];
  const started = Date.now();
  await Promise.all([0, 1, 2, 3, 4].map(async (i) => {
    await bucket.take();
    done.push(i);
  }));
  assert.deepEqual(done, [0, 1, 2, 3, 4]);
  assert.ok(Date.now() - started >= 75, `took ${Date.now() - started} ms`);
});

test('QPS or Burst 0 mean client-go\'s defaults, 5 and 10; other values are kept', () => {
  const table: Array<[qps: number, burst: number, want: { qps: number; burst: number }]> = [
    [50, 100, { qps: 50, burst: 100 }],
    [0, 0, { qps: 5, burst: 10 }],
    [0, 3, { qps: 5, burst: 3 }],
    [1000, 0, { qps: 1000, burst: 10 }],
  ];
  for (const [qps, burst, want] of table) assert.deepEqual(effectiveApiRateLimit(qps, burst), want, `${qps}/${burst}`);
});
