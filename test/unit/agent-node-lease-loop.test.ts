// keepLeaseRenewed: renews every interval; a failed or hung attempt is retried with backoff
// (sooner than the interval), so a stalled API server is followed quickly once it answers.
import assert from 'node:assert/strict';
import test from 'node:test';
import { keepLeaseRenewed } from '../../src/agent/node/node-lease.ts';
import { waitFor } from '../../src/world/wait.ts';

const log = { warn() {} };

test('a hung renewal times out and is retried with backoff, then the interval resumes', async () => {
  const at: number[] = [];
  let hang = true;
  const stop = keepLeaseRenewed(async () => {
    at.push(performance.now());
    if (hang) await new Promise(() => {}); // never answers: a stopped server
  }, { intervalMs: 1000, attemptTimeoutMs: 30, initialRetryMs: 10, maxRetryMs: 40 }, log);
  await waitFor(() => at.length >= 4, { timeoutMs: 5000, intervalMs: 5, what: 'four attempts' });
  hang = false;
  const released = performance.now();
  await waitFor(() => at.some((t) => t > released), { timeoutMs: 5000, intervalMs: 5, what: 'an attempt after the server answers again' });
  const recovered = at.find((t) => t > released)! - released;
  // Attempts fail after 30 ms, then wait 10, 20, 40, 40 ms: the next one is never an interval away.
  assert.ok(recovered < 30 + 40 + 50, `renewed ${Math.round(recovered)} ms after the server answered`);
  const n = at.length;
  await new Promise((r) => setTimeout(r, 200)); // within the 1 s interval: no further attempt
  assert.equal(at.length, n, 'after a success the next renewal waits the interval');
  await stop();
});

test('a failing renewal is retried with doubling delays capped at the maximum', async () => {
  const at: number[] = [];
  const stop = keepLeaseRenewed(async () => {
    at.push(performance.now());
    throw new Error('503');
  }, { intervalMs: 10_000, initialRetryMs: 10, maxRetryMs: 40 }, log);
  await waitFor(() => at.length >= 6, { timeoutMs: 5000, intervalMs: 5, what: 'six attempts' });
  await stop();
  const gaps = at.slice(1).map((t, i) => t - at[i]!);
  [10, 20, 40, 40, 40].forEach((want, i) => assert.ok(gaps[i]! >= want - 2, `gap ${i}: ${gaps[i]} ms >= ${want} ms`));
  assert.ok(gaps.every((g) => g < 1000), `never waits the interval after a failure: ${gaps.join(', ')}`);
});
