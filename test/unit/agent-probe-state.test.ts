// Table tests for the probe state machine (src/agent/prober/probe-state.ts): the kubelet's
// defaults, when a probe may run (initial delay, startup gating, held after a failure), and how
// raw results become verdicts (thresholds), with the clock passed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  initialProbeState, probeGate, probeSettingsOf, recordProbeResult, type ProbeState,
} from '../../src/agent/prober/probe-state.ts';
import type { ProbeKind } from '../../src/pod/probe-results.ts';

test('probe settings: the kubelet defaults, and success threshold 1 for liveness and startup', () => {
  assert.deepEqual(probeSettingsOf('readiness', { exec: { command: ['true'] } }),
    { initialDelayMs: 0, periodMs: 10_000, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  assert.deepEqual(probeSettingsOf('liveness', { initialDelaySeconds: 5, periodSeconds: 2, timeoutSeconds: 3, successThreshold: 4, failureThreshold: 1, terminationGracePeriodSeconds: 7 }),
    { initialDelayMs: 5000, periodMs: 2000, timeoutSeconds: 3, successThreshold: 1, failureThreshold: 1, terminationGracePeriodSeconds: 7 });
  assert.equal(probeSettingsOf('readiness', { successThreshold: 2 }).successThreshold, 2);
  assert.equal(probeSettingsOf('readiness', { terminationGracePeriodSeconds: 7 }).terminationGracePeriodSeconds, undefined, 'readiness never kills');
  assert.equal(probeSettingsOf('startup', { periodSeconds: 0, timeoutSeconds: -1 }).periodMs, 10_000, 'non-positive values take the default');
});

test('initial verdicts: not ready, alive, not yet started', () => {
  assert.equal(initialProbeState('readiness', 'c1').verdict, 'failure');
  assert.equal(initialProbeState('liveness', 'c1').verdict, 'success');
  assert.equal(initialProbeState('startup', 'c1').verdict, 'unknown');
});

const START = 1_000_000;
const settings = (over: Partial<ReturnType<typeof probeSettingsOf>> = {}) => ({ ...probeSettingsOf('liveness', {}), ...over });

const gateRows: Array<{ name: string; kind: ProbeKind; state?: Partial<ProbeState>; delayMs?: number; nowMs: number; startupPassed?: boolean; want: string }> = [
  { name: 'no delay: runs at once', kind: 'liveness', nowMs: START, want: 'run' },
  { name: 'within initialDelaySeconds: waits the rest of it', kind: 'readiness', delayMs: 5000, nowMs: START + 2000, want: 'initialDelay:3000' },
  { name: 'initial delay over: runs', kind: 'readiness', delayMs: 5000, nowMs: START + 5000, want: 'run' },
  { name: 'liveness waits for the startup probe', kind: 'liveness', nowMs: START + 60_000, startupPassed: false, want: 'awaitingStartup' },
  { name: 'readiness waits for the startup probe', kind: 'readiness', nowMs: START + 60_000, startupPassed: false, want: 'awaitingStartup' },
  { name: 'liveness runs once startup passed', kind: 'liveness', nowMs: START, startupPassed: true, want: 'run' },
  { name: 'a startup probe that passed runs no more', kind: 'startup', state: { verdict: 'success' }, nowMs: START, want: 'startupPassed' },
  { name: 'a failed liveness verdict holds until a new container', kind: 'liveness', state: { verdict: 'failure', onHold: true }, nowMs: START, want: 'onHold' },
  { name: 'startup gating does not apply to the startup probe itself', kind: 'startup', nowMs: START, startupPassed: false, want: 'run' },
];

for (const row of gateRows) {
  test(`probe gate: ${row.name}`, () => {
    const state = { ...initialProbeState(row.kind, 'c1'), ...row.state };
    const gate = probeGate(row.kind, state, settings({ initialDelayMs: row.delayMs ?? 0 }), { nowMs: row.nowMs, startedAtMs: START, startupPassed: row.startupPassed });
    const got = gate.run ? 'run' : gate.why === 'initialDelay' ? `initialDelay:${gate.retryInMs}` : gate.why;
    assert.equal(got, row.want);
  });
}

/** Feeds raw results one by one; returns the verdict after each. */
function verdicts(kind: ProbeKind, raws: Array<'success' | 'failure'>, over: Partial<ReturnType<typeof probeSettingsOf>> = {}): string[] {
  let state = initialProbeState(kind, 'c1');
  const s = { ...probeSettingsOf(kind, {}), ...over };
  return raws.map((raw) => {
    state = recordProbeResult(kind, state, raw, s);
    return state.onHold ? `${state.verdict}(held)` : state.verdict;
  });
}

const S = 'success' as const;
const F = 'failure' as const;
const thresholdRows: Array<{ name: string; kind: ProbeKind; raws: Array<'success' | 'failure'>; over?: Partial<ReturnType<typeof probeSettingsOf>>; want: string[] }> = [
  { name: 'readiness: one success makes it ready', kind: 'readiness', raws: [S], want: ['success'] },
  { name: 'readiness: three failures in a row make it unready', kind: 'readiness', raws: [S, F, F, F], want: ['success', 'success', 'success', 'failure'] },
  { name: 'readiness: a success between failures restarts the count', kind: 'readiness', raws: [S, F, F, S, F, F, F], want: ['success', 'success', 'success', 'success', 'success', 'success', 'failure'] },
  { name: 'readiness: successThreshold 2 needs two in a row', kind: 'readiness', raws: [S, F, S, S], over: { successThreshold: 2 }, want: ['failure', 'failure', 'failure', 'success'] },
  { name: 'liveness: stays alive through two failures', kind: 'liveness', raws: [F, F], want: ['success', 'success'] },
  { name: 'liveness: the third failure fails it and holds it', kind: 'liveness', raws: [F, F, F], want: ['success', 'success', 'failure(held)'] },
  { name: 'liveness: failureThreshold 1 fails at once', kind: 'liveness', raws: [F], over: { failureThreshold: 1 }, want: ['failure(held)'] },
  { name: 'startup: unknown until it passes', kind: 'startup', raws: [F, S], want: ['unknown', 'success'] },
  { name: 'startup: failureThreshold failures fail it', kind: 'startup', raws: [F, F, F], want: ['unknown', 'unknown', 'failure(held)'] },
];

for (const row of thresholdRows) {
  test(`probe thresholds: ${row.name}`, () => assert.deepEqual(verdicts(row.kind, row.raws, row.over), row.want));
}

test('a new container instance starts from the initial verdict (results reset on restart)', () => {
  let state = initialProbeState('liveness', 'c1');
  for (let i = 0; i < 3; i++) state = recordProbeResult('liveness', state, 'failure', settings());
  assert.equal(state.verdict, 'failure');
  const restarted = initialProbeState('liveness', 'c2');
  assert.deepEqual(restarted, { containerId: 'c2', verdict: 'success', run: 0, onHold: false });
  assert.equal(probeGate('liveness', restarted, settings(), { nowMs: START, startedAtMs: START, startupPassed: undefined }).run, true);
});
