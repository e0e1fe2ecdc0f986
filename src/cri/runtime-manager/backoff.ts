// A keyed exponential backoff with the kubelet's flowcontrol.Backoff semantics: the first
// failure waits `initialMs`, each further one doubles it up to `maxMs`, and a key that has
// not failed for 2 × max starts over. The clock is injected so tests need no sleeps.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  clock?: () => number;
}

/** Read-only questions computePodActions may ask; answers depend only on the arguments. */
export interface BackoffView {
  /** Milliseconds still to wait when the event (e.g. a container exit) at `eventMs` is under
   * backoff for `key` at time `now`; 0 when it may go ahead. */
  remainingSince(key: string, eventMs: number, now: number): number;
  /** The current backoff duration for `key` (0 when none). */
  durationOf(key: string): number;
}

interface Entry {
  backoffMs: number;
  lastUpdateMs: number;
}

export class Backoff implements BackoffView {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly clock: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 10_000;
    this.maxMs = opts.maxMs ?? 300_000;
    this.clock = opts.clock ?? Date.now;
  }

  /** Records one more failure (or restart) for `key` and returns the new backoff. */
  next(key: string): number {
    const now = this.clock();
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, now)) {
      this.entries.set(key, { backoffMs: this.initialMs, lastUpdateMs: now });
      return this.initialMs;
    }
    entry.backoffMs = Math.min(entry.backoffMs * 2, this.maxMs);
    entry.lastUpdateMs = now;
    return entry.backoffMs;
  }

  durationOf(key: string): number {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, this.clock())) return 0;
    return entry.backoffMs;
  }

  remainingSince(key: string, eventMs: number, now: number): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    // An event long after the last failure means the thing ran fine for a while: start over.
    if (eventMs - entry.lastUpdateMs > 2 * this.maxMs) return 0;
    return Math.max(0, entry.backoffMs - (now - eventMs));
  }

  /** Is `key` in backoff now, counted from its last recorded failure? (image pulls) */
  remainingNow(key: string): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    return this.remainingSince(key, entry.lastUpdateMs, this.clock());
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets keys without failures for 2 × max (keeps the map small on long-running nodes). */
  gc(): void {
    const now = this.clock();
    for (const [key, entry] of this.entries) if (this.expired(entry, now)) this.entries.delete(key);
  }

  private expired(entry: Entry, now: number): boolean {
    return now - entry.lastUpdateMs > 2 * this.maxMs;
  }
}

/** Backoff key of one container spec in one pod: a changed spec starts a fresh backoff. */
export function containerBackoffKey(podUid: string, containerName: string, specHash: string): string {
  return `${podUid}/${containerName}/${specHash}`;
}
