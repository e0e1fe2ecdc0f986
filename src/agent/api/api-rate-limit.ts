// The limit on the agent's API requests (kubelet --kube-api-qps / --kube-api-burst), as
// client-go applies a rest.Config's QPS and Burst: 0 stands for its defaults (5 a second,
// burst 10), and every request waits for a token before it is sent, except the long-lived
// watches (client-go never throttles those). Heartbeats and events are throttled elsewhere or
// not at all: see the exemptions in kube-api.ts.
import { TokenBucket } from '../util/token-bucket.ts';

/** client-go's rest.DefaultQPS and rest.DefaultBurst, what a QPS or Burst of 0 means. */
export const clientGoDefaultQps = 5;
export const clientGoDefaultBurst = 10;

export function effectiveApiRateLimit(qps: number, burst: number): { qps: number; burst: number } {
  return { qps: qps === 0 ? clientGoDefaultQps : qps, burst: burst === 0 ? clientGoDefaultBurst : burst };
}

/** A function each throttled request awaits before it is sent. */
export function apiThrottle(qps: number, burst: number): () => Promise<void> {
  const limit = effectiveApiRateLimit(qps, burst);
  const bucket = new TokenBucket(limit.qps, limit.burst);
  return () => bucket.take();
}
