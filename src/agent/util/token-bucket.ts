// A token bucket: `qps` tokens a second, at most `burst` saved up. take() waits for a token.
// Waiters reserve their token up front (the bucket may go below zero, as golang.org/x/time/rate
// reservations do), so each sleeps exactly once, until its own slot, and they are served in
// order: thousands of callers queued behind a low rate cost one timer each, not a timer per
// caller per token handed out.
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly qps: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    if (!(qps > 0) || !(burst >= 1)) throw new RangeError(`token bucket needs qps > 0 and burst >= 1, got qps ${qps}, burst ${burst}`);
    this.tokens = burst;
    this.last = now();
  }

  /** Takes the next token: how many ms from now it is due (0: at once). */
  reserve(): number {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  async take(): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
  }
}
