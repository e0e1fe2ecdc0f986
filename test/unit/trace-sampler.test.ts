// Which traces go to the collector: samplingRatePerMillion of the roots by trace id, children as
// their root; unsampled spans are still recorded for the timeline buffer when it is on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { PodTraceSampler } from '../../src/trace/sampler.ts';

const traceId = () => randomBytes(16).toString('hex');
const under = (flags: TraceFlags) => trace.setSpanContext(ROOT_CONTEXT, { traceId: traceId(), spanId: randomBytes(8).toString('hex'), traceFlags: flags });

test('all, none, and recorded-but-not-exported', () => {
  assert.equal(new PodTraceSampler(1_000_000, false).shouldSample(ROOT_CONTEXT, traceId()).decision, SamplingDecision.RECORD_AND_SAMPLED);
  assert.equal(new PodTraceSampler(0, false).shouldSample(ROOT_CONTEXT, traceId()).decision, SamplingDecision.NOT_RECORD);
  assert.equal(new PodTraceSampler(0, true).shouldSample(ROOT_CONTEXT, traceId()).decision, SamplingDecision.RECORD);
});

test('children follow their root, whatever the rate', () => {
  assert.equal(new PodTraceSampler(0, false).shouldSample(under(TraceFlags.SAMPLED), traceId()).decision, SamplingDecision.RECORD_AND_SAMPLED);
  assert.equal(new PodTraceSampler(1_000_000, true).shouldSample(under(TraceFlags.NONE), traceId()).decision, SamplingDecision.RECORD);
  assert.equal(new PodTraceSampler(1_000_000, false).shouldSample(under(TraceFlags.NONE), traceId()).decision, SamplingDecision.NOT_RECORD);
});

test('250,000 per million: about a quarter of the roots, the same answer for the same trace', () => {
  const s = new PodTraceSampler(250_000, false);
  const ids = Array.from({ length: 4000 }, traceId);
  const sampled = ids.filter((id) => s.shouldSample(ROOT_CONTEXT, id).decision === SamplingDecision.RECORD_AND_SAMPLED).length;
  assert.ok(sampled > 800 && sampled < 1200, `${sampled} of 4000`);
  for (const id of ids.slice(0, 50)) assert.equal(s.shouldSample(ROOT_CONTEXT, id).decision, s.shouldSample(ROOT_CONTEXT, id).decision);
});
