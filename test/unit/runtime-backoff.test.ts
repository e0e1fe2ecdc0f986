import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/cri/runtime-manager/backoff.ts';

function clockedBackoff() {
  const clock = { now: 0 };
  return { clock, backoff: new Backoff({ clock: () => clock.now }) };
}

test('backoff starts at 10 s and doubles up to 300 s', () => {
  const { backoff } = clockedBackoff();
  const seen = Array.from({ length: 8 }, () => backoff.next('k'));
  assert.deepEqual(seen, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
});

test('keys are independent', () => {
  const { backoff } = clockedBackoff();
  backoff.next('a');
  backoff.next('a');
  assert.equal(backoff.next('b'), 10_000);
  assert.equal(backoff.durationOf('a'), 20_000);
});

test('an event is in backoff until the duration has passed since it', () => {
  const { clock, backoff } = clockedBackoff();
  backoff.next('k');
  clock.now = 1000;
  assert.equal(backoff.remainingSince('k', 1000, 4000), 7000);
  assert.equal(backoff.remainingSince('k', 1000, 11_000), 0);
  assert.equal(backoff.remainingSince('unknown', 1000, 1000), 0);
});

test('remainingNow counts from the last failure (image pulls)', () => {
  const { clock, backoff } = clockedBackoff();
  clock.now = 5000;
  backoff.next('img');
  clock.now = 9000;
  assert.equal(backoff.remainingNow('img'), 6000);
  clock.now = 15_000;
  assert.equal(backoff.remainingNow('img'), 0);
});

test('after 2 × max without failures the backoff starts over', () => {
  const { clock, backoff } = clockedBackoff();
  for (let i = 0; i < 6; i++) backoff.next('k');
  assert.equal(backoff.durationOf('k'), 300_000);
  clock.now = 600_001;
  assert.equal(backoff.durationOf('k'), 0);
  assert.equal(backoff.next('k'), 10_000);
});

test('an exit long after the last restart is not in backoff (the container ran fine)', () => {
  const { backoff } = clockedBackoff();
  backoff.next('k');
  assert.equal(backoff.remainingSince('k', 700_000, 700_001), 0);
});

test('gc forgets stale keys, reset forgets one', () => {
  const { clock, backoff } = clockedBackoff();
  backoff.next('old');
  clock.now = 700_000;
  backoff.next('fresh');
  backoff.gc();
  assert.equal(backoff.durationOf('old'), 0);
  assert.equal(backoff.durationOf('fresh'), 10_000);
  backoff.reset('fresh');
  assert.equal(backoff.durationOf('fresh'), 0);
});
