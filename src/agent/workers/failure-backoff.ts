// How long a pod waits before its worker retries a sync that failed without saying when to
// retry (a sandbox that could not be created, a runtime that is down): doubling from `baseMs`
// up to `maxMs` (the kubelet requeues such pods after 10 s), reset by a clean sync.
export class FailureBackoff {
  private readonly failures = new Map<string, number>();

  constructor(private readonly baseMs: number, private readonly maxMs: number) {}

  /** Record a failure; returns the delay before the next attempt. */
  failed(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return Math.min(this.maxMs, this.baseMs * 2 ** (n - 1));
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }
}
