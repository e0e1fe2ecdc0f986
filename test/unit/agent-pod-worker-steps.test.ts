// Table tests for nextPodWorkerStep: each row is what a pod worker knows about one pod, and
// the step it must take next. Then the worker's state changes: legal ones log, illegal ones throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { nextPodWorkerStep, type PodWorkerFacts } from '../../src/agent/workers/next-pod-worker-step.ts';
import { changeWorkerState, initialWorkerStatus } from '../../src/agent/workers/pod-worker-state.ts';
import type { PodRecord } from '../../src/agent/workers/pod-registry.ts';

const running: PodWorkerFacts = { state: 'syncing', removedFromSource: false, deletionRequested: false, admission: 'admitted', phase: 'Running', needsMirror: false, pastActiveDeadline: false };
const facts = (over: Partial<PodWorkerFacts>): PodWorkerFacts => ({ ...running, ...over });

const rows: Array<{ name: string; facts: PodWorkerFacts; want: string }> = [
  { name: 'first sight: admit', facts: facts({ admission: 'pending', phase: 'Pending' }), want: 'admit' },
  { name: 'first sight of a pod already deleted: terminate, never admit', facts: facts({ admission: 'pending', deletionRequested: true }), want: 'terminate' },
  { name: 'first sight of a pod gone from its source: clean up', facts: facts({ admission: 'pending', removedFromSource: true }), want: 'cleanUp' },
  { name: 'admitted and Running: sync', facts: running, want: 'sync' },
  { name: 'admitted and Pending: sync', facts: facts({ phase: 'Pending' }), want: 'sync' },
  { name: 'admitted, no phase known yet: sync', facts: facts({ phase: undefined }), want: 'sync' },
  { name: 'rejected: nothing more', facts: facts({ admission: 'rejected', state: 'terminated', phase: 'Failed' }), want: 'idle' },
  { name: 'rejected and then deleted: terminate (the API object must go)', facts: facts({ admission: 'rejected', state: 'terminated', phase: 'Failed', deletionRequested: true }), want: 'terminate' },
  { name: 'reached Succeeded: stop what still runs', facts: facts({ phase: 'Succeeded' }), want: 'stopFinished' },
  { name: 'reached Failed: stop what still runs', facts: facts({ phase: 'Failed' }), want: 'stopFinished' },
  { name: 'finished and already stopped: nothing (no second kill)', facts: facts({ phase: 'Succeeded', state: 'terminated' }), want: 'idle' },
  { name: 'finished, then deleted: terminate', facts: facts({ phase: 'Succeeded', state: 'terminated', deletionRequested: true }), want: 'terminate' },
  { name: 'deleted while running: terminate', facts: facts({ deletionRequested: true }), want: 'terminate' },
  { name: 'deleted and still terminating on a later wake: terminate again (idempotent)', facts: facts({ deletionRequested: true, state: 'terminating' }), want: 'terminate' },
  { name: 'deleted and terminated, DELETE event not yet seen: terminate again', facts: facts({ deletionRequested: true, state: 'terminated' }), want: 'terminate' },
  { name: 'gone from its source while running: clean up', facts: facts({ removedFromSource: true }), want: 'cleanUp' },
  { name: 'gone from its source while terminating: clean up wins over terminate', facts: facts({ removedFromSource: true, deletionRequested: true, state: 'terminating' }), want: 'cleanUp' },
  { name: 'back in its source before its clean-up finished: sync again', facts: facts({ state: 'terminating' }), want: 'sync' },
  { name: 'active past its deadline: fail it (DeadlineExceeded)', facts: facts({ pastActiveDeadline: true }), want: 'failDeadline' },
  { name: 'past its deadline but already Failed: stop what still runs, not fail again', facts: facts({ pastActiveDeadline: true, phase: 'Failed' }), want: 'stopFinished' },
  { name: 'past its deadline and deleted: terminate', facts: facts({ pastActiveDeadline: true, deletionRequested: true }), want: 'terminate' },
  { name: 'past its deadline before admission: admit first', facts: facts({ pastActiveDeadline: true, admission: 'pending' }), want: 'admit' },
  { name: 'cleaned up: nothing, even if woken again', facts: facts({ state: 'cleanedUp', removedFromSource: true }), want: 'idle' },
];

for (const row of rows) {
  test(`next step: ${row.name}`, () => assert.equal(nextPodWorkerStep(row.facts).kind, row.want));
}

const mirrorRows: Array<{ name: string; facts: PodWorkerFacts; want: boolean }> = [
  { name: 'admitted static pod being synced keeps its mirror', facts: facts({ needsMirror: true }), want: true },
  { name: 'finished static pod keeps its mirror', facts: facts({ needsMirror: true, phase: 'Succeeded', state: 'terminated' }), want: true },
  { name: 'rejected static pod gets no mirror', facts: facts({ needsMirror: true, admission: 'rejected', state: 'terminated', phase: 'Failed' }), want: false },
  { name: 'an API pod never needs one', facts: running, want: false },
];
for (const row of mirrorRows) {
  test(`mirror: ${row.name}`, () => {
    const step = nextPodWorkerStep(row.facts);
    assert.equal('ensureMirror' in step && step.ensureMirror, row.want);
  });
}

function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

function record(): PodRecord {
  return { uid: 'u1', pod: { metadata: { name: 'web', namespace: 'ns', uid: 'u1' } }, source: 'api', removed: false, worker: initialWorkerStatus(Date.now()) };
}

test('state changes: each one logs once with where it came from; staying put logs nothing', () => {
  const { logger, lines } = recordingLogger();
  const r = record();
  changeWorkerState(r, { state: 'syncing', label: 'Admitted' }, logger);
  changeWorkerState(r, { state: 'syncing', progress: 'SandboxReady' }, logger);
  changeWorkerState(r, { state: 'syncing', progress: 'SandboxReady' }, logger);
  changeWorkerState(r, { state: 'syncing', progress: 'Running' }, logger);
  changeWorkerState(r, { state: 'terminating' }, logger, { gracePeriodSeconds: 5 });
  changeWorkerState(r, { state: 'terminated' }, logger);
  changeWorkerState(r, { state: 'cleanedUp' }, logger);
  assert.deepEqual(lines.map((l) => [l.step, l.from]), [
    ['Admitted', 'syncing'], ['SandboxReady', 'syncing'], ['Running', 'SandboxReady'], ['terminating', 'Running'], ['terminated', 'terminating'], ['cleanedUp', 'terminated'],
  ]);
  // The lifecycle a person follows at --v 4, in the message and as a field (cleanedUp is past it).
  assert.deepEqual(lines.map((l) => [l.lifecycle, l.msg]), [
    ['Admitted', 'pod Admitted'], ['SandboxReady', 'pod SandboxReady'], ['Running', 'pod Running'], ['Terminating', 'pod Terminating'],
    ['Terminated', 'pod Terminated'], [undefined, 'pod cleanedUp'],
  ]);
  assert.equal(lines[3]!.gracePeriodSeconds, 5);
  assert.equal(lines[0]!.pod, 'ns/web');
  assert.equal(r.worker.state, 'cleanedUp');
});

test('state changes: a worker never goes back (terminated → syncing is a bug and says so)', () => {
  const { logger } = recordingLogger();
  const r = record();
  changeWorkerState(r, { state: 'terminated', label: 'Rejected' }, logger);
  assert.throws(() => changeWorkerState(r, { state: 'syncing' }, logger), /ns\/web \(u1\): worker cannot go from terminated to syncing/);
  assert.throws(() => changeWorkerState(r, { state: 'terminating' }, logger), /from terminated to terminating/);
});

// How far a syncing pod got (its lifecycle state): test/unit/agent-pod-lifecycle.test.ts.

