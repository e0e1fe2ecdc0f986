// Which traces go to the collector: samplingRatePerMillion of the roots, by trace id, and the
// children follow their root. Unsampled spans are still recorded when the timeline buffer wants
// them (RECORD): the buffer sees every span, the exporter (which only takes sampled ones) not.
import { trace, TraceFlags, type Context } from '@opentelemetry/api';
import { SamplingDecision, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';

export class PodTraceSampler implements Sampler {
  constructor(private readonly perMillion: number, private readonly recordUnsampled: boolean) {}

  shouldSample(parent: Context, traceId: string): SamplingResult {
    const parentCtx = trace.getSpanContext(parent);
    const sampled = parentCtx ? (parentCtx.traceFlags & TraceFlags.SAMPLED) !== 0 : this.sampledRoot(traceId);
    if (sampled) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return { decision: this.recordUnsampled ? SamplingDecision.RECORD : SamplingDecision.NOT_RECORD };
  }

  private sampledRoot(traceId: string): boolean {
    if (this.perMillion >= 1_000_000) return true;
    if (this.perMillion <= 0) return false;
    // The trace id's last 8 hex digits are random: a uniform draw in [0, 1e6).
    return (parseInt(traceId.slice(-8), 16) % 1_000_000) < this.perMillion;
  }

  toString(): string {
    return `PodTraceSampler{${this.perMillion}/M}`;
  }
}
