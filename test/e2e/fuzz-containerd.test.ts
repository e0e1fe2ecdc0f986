// The pod-spec fuzzer (src/fuzz/) on real containerd (the test world; root): 25 specs of one
// fixed seed through the agent as a child process. No crash, a precise verdict for every pod,
// and nothing left behind: no sandbox or container in containerd, no pod dir, no network
// namespace, no IP lease. Rerun one spec with `npm run fuzz -- --runtime containerd --seed 1 --only I`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { runFuzz } from '../../src/fuzz/runner.ts';
import { requireE2e } from '../helpers/e2e.ts';

test('25 fuzzed pod specs on containerd: no crash, a precise verdict for each, no leaks', { timeout: 300_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const summary = await runFuzz({ seed: 1, count: 25, runtime: 'containerd', parallel: 8, logger: pino({ level: 'silent' }) });
  const show = JSON.stringify({ ...summary, api_divergences: summary.api_divergences.length });
  assert.equal(summary.agent_restarts, 0, show);
  assert.ok(summary.agent_pid_same, show);
  assert.equal(summary.verdicts, summary.accepted, show);
  assert.deepEqual(summary.failures, [], show);
  assert.deepEqual(summary.api_divergences.filter((d) => d.kind === 'refused'), [], show);
  assert.deepEqual(summary.leaks, [], show);
});
