// The pod workers' scheduling: one sync at a time per pod, bursts collapse to the newest,
// different pods in parallel up to a bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject, lastValueFrom, toArray } from 'rxjs';
import { syncPerKey } from '../../src/agent/workers/sync-per-key.ts';

interface Req { uid: string; version: number }

/** A job whose every call waits until the test releases it. */
function controlledJob() {
  const started: Req[] = [];
  const releases: Array<() => void> = [];
  let running = 0;
  let maxRunning = 0;
  const job = (req: Req) => new Promise<string>((resolve) => {
    started.push(req);
    running++;
    maxRunning = Math.max(maxRunning, running);
    releases.push(() => {
      running--;
      resolve(`${req.uid}@${req.version}`);
    });
  });
  return { job, started, release: (i: number) => releases[i](), stats: () => ({ running, maxRunning }) };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a burst for one pod collapses to the newest update, one sync at a time', async () => {
  const c = controlledJob();
  const input = new Subject<Req>();
  const done = lastValueFrom(input.pipe(syncPerKey((r) => r.uid, c.job, 4), toArray()));
  input.next({ uid: 'a', version: 1 });
  for (let v = 2; v <= 6; v++) input.next({ uid: 'a', version: v });
  await tick();
  assert.deepEqual(c.started.map((r) => r.version), [1], 'second sync must wait for the first');
  c.release(0);
  await tick();
  assert.deepEqual(c.started.map((r) => r.version), [1, 6], 'versions 2-5 collapse into 6');
  input.complete();
  c.release(1);
  assert.deepEqual(await done, ['a@1', 'a@6']);
  assert.equal(c.stats().maxRunning, 1);
});

test('different pods sync in parallel', async () => {
  const c = controlledJob();
  const input = new Subject<Req>();
  const done = lastValueFrom(input.pipe(syncPerKey((r) => r.uid, c.job, 4), toArray()));
  for (const uid of ['a', 'b', 'c']) input.next({ uid, version: 1 });
  await tick();
  assert.deepEqual(c.started.map((r) => r.uid), ['a', 'b', 'c']);
  assert.equal(c.stats().running, 3);
  input.complete();
  for (let i = 0; i < 3; i++) c.release(i);
  assert.equal((await done).length, 3);
});

test('parallelism is bounded and waiting pods start in arrival order', async () => {
  const c = controlledJob();
  const input = new Subject<Req>();
  const done = lastValueFrom(input.pipe(syncPerKey((r) => r.uid, c.job, 2), toArray()));
  for (const uid of ['a', 'b', 'c', 'd']) input.next({ uid, version: 1 });
  input.next({ uid: 'd', version: 2 });
  await tick();
  assert.deepEqual(c.started.map((r) => r.uid), ['a', 'b']);
  c.release(1);
  await tick();
  assert.deepEqual(c.started.map((r) => r.uid), ['a', 'b', 'c']);
  c.release(0);
  await tick();
  assert.deepEqual(c.started.map((r) => `${r.uid}${r.version}`), ['a1', 'b1', 'c1', 'd2'], 'd waited, then ran its newest update');
  input.complete();
  c.release(2);
  c.release(3);
  assert.equal((await done).length, 4);
  assert.equal(c.stats().maxRunning, 2);
});

test('a failing sync is reported and the pod syncs again on its next update', async () => {
  const failures: string[] = [];
  let calls = 0;
  const input = new Subject<Req>();
  const done = lastValueFrom(input.pipe(syncPerKey((r) => r.uid, async (r) => {
    calls++;
    if (r.version === 1) throw new Error('runtime down');
    return r.version;
  }, 2, (err, r) => failures.push(`${r.uid}: ${(err as Error).message}`)), toArray()));
  input.next({ uid: 'a', version: 1 });
  await tick();
  input.next({ uid: 'a', version: 2 });
  input.complete();
  assert.deepEqual(await done, [2]);
  assert.deepEqual(failures, ['a: runtime down']);
  assert.equal(calls, 2);
});
