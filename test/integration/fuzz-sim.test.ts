// The pod-spec fuzzer (src/fuzz/) against the agent on the simulated runtime: 300 specs of one
// fixed seed. The agent (a child process) must not crash, every accepted pod must settle with a
// precise reason within its deadline and be deleted, the API must take every valid spec, and
// nothing may be left in the runtime or under the agent's root dir.
// A failure names the spec: rerun it alone with `npm run fuzz -- --seed 1 --only I`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { runFuzz } from '../../src/fuzz/runner.ts';

test('300 fuzzed pod specs on the sim: no crash, a precise verdict for each, no leaks', { timeout: 240_000 }, async () => {
  const summary = await runFuzz({ seed: 1, count: 300, runtime: 'sim', parallel: 20, logger: pino({ level: 'silent' }) });
  const show = JSON.stringify({ ...summary, api_divergences: summary.api_divergences.length });
  assert.equal(summary.agent_restarts, 0, show);
  assert.ok(summary.agent_pid_same, show);
  assert.equal(summary.accepted + summary.refused, 300, show);
  assert.ok(summary.refused > 0, 'some specs are ones the API must refuse');
  assert.equal(summary.verdicts, summary.accepted, show);
  assert.deepEqual(summary.failures, [], show);
  assert.deepEqual(summary.api_divergences.filter((d) => d.kind === 'refused'), [], 'the API takes every spec kube-apiserver takes');
  assert.deepEqual(summary.leaks, [], show);
  assert.ok((summary.outcomes['Running:Ready'] ?? 0) > 30, 'enough pods go all the way to Ready');
});
