// TeardownRetries: a pod whose sandbox stop failed is retried with backoff until a retry says
// nothing is left, also when the retry itself throws; a failure reported while a retry waits
// does not push it back; stop() cancels everything.
import assert from 'node:assert/strict';
import test from 'node:test';
import { pino } from 'pino';
import { TeardownRetries } from '../../src/cri/runtime-manager/teardown-retries.ts';
import { waitFor } from '../../src/world/wait.ts';

const logger = pino({ level: 'silent' });
const ref = { uid: 'u1', name: 'p', namespace: 'default' };

test('retries with doubling delays until the retry succeeds, then forgets the pod', async () => {
  const at: number[] = [];
  const seen: string[][] = [];
  let retries: TeardownRetries | undefined;
  retries = new TeardownRetries({
    logger, initialMs: 20, maxMs: 1000,
    retry: async (r, sandboxes) => {
      at.push(performance.now());
      seen.push(sandboxes);
      if (at.length < 4) {
        retries!.failed(r, 's1', 'CNI DEL failed'); // what killPodWithResult reports on a failed stop
        return false;
      }
      return true;
    },
  });
  const started = performance.now();
  retries.failed(ref, 's1', 'CNI DEL failed');
  retries.failed(ref, 's1', 'again, from another caller'); // does not reschedule
  assert.equal(retries.pending().length, 1);
  await waitFor(() => retries!.pending().length === 0, { timeoutMs: 5000, intervalMs: 5, what: 'the retries to succeed' });
  assert.equal(at.length, 4);
  assert.deepEqual(seen[0], ['s1']);
  const gaps = [at[0]! - started, ...at.slice(1).map((t, i) => t - at[i]!)];
  // 20, 40, 80, 160 ms: each at least its backoff (timers never fire early).
  gaps.forEach((g, i) => assert.ok(g >= 20 * 2 ** i - 2, `gap ${i} ${g} ms >= ${20 * 2 ** i} ms`));
  retries.stop();
});

test('a throwing retry counts as a failure and is retried; the delay is capped', async () => {
  let calls = 0;
  const retries = new TeardownRetries({
    logger, initialMs: 10, maxMs: 20,
    retry: async () => {
      calls++;
      if (calls < 4) throw new Error('runtime down');
      return true;
    },
  });
  retries.failed(ref, 's1', 'x');
  await waitFor(() => retries.pending().length === 0, { timeoutMs: 5000, intervalMs: 5, what: 'the retries to succeed' });
  assert.equal(calls, 4);
  retries.stop();
});

test('stop() cancels pending retries', async () => {
  let calls = 0;
  const retries = new TeardownRetries({ logger, initialMs: 30, retry: async () => (calls++, true) });
  retries.failed(ref, 's1', 'x');
  retries.stop();
  await new Promise((r) => setTimeout(r, 80)); // past the first retry's due time: it must not run
  assert.equal(calls, 0);
  assert.deepEqual(retries.pending(), []);
});
