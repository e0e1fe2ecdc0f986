// A small TTL cache for answers the API server gave (TokenReview, SubjectAccessReview), so a
// busy client does not cost one API call per request. Bounded: past `maxEntries` the oldest
// entry goes first, so a flood of distinct keys cannot grow memory without limit.

export interface ReviewCacheOptions {
  maxEntries?: number;
  /** Milliseconds now; injectable for tests. */
  now?: () => number;
}

export class ReviewCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAtMs: number }>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: ReviewCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 4096;
    this.now = opts.now ?? Date.now;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** A TTL of 0 (or less) caches nothing, as the kubelet's cache TTL of 0s disables caching. */
  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAtMs: this.now() + ttlMs });
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}
