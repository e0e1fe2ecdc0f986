// Sandboxes whose stop failed, typically because their network teardown (CNI DEL) failed: the
// runtime keeps such a sandbox (its netns, its IP) and so does the agent, which must not lose
// track of it. Each pod with such a sandbox gets a retry of its own, with backoff (1 s doubling
// up to 30 s by default), independent of its pod worker, which may be done with the pod (deleted
// from the API) and of the garbage collector's minute: a retry stops the pod's sandboxes again
// and, for a pod no source knows any more, removes everything once that succeeds. A restarted
// agent finds such sandboxes again through CRI (relist), so the tracking survives restarts.
import type { Logger } from 'pino';
import { podLogFields, type PodRef } from '../../pod/pod-ref.ts';

export interface TeardownRetryOptions {
  /** One retry for the pod and the sandboxes whose stop failed; resolves true once nothing is left to tear down. */
  retry: (ref: PodRef, sandboxIds: string[]) => Promise<boolean>;
  logger: Logger;
  initialMs?: number;
  maxMs?: number;
}

interface Entry {
  ref: PodRef;
  /** Failed attempts so far (the first one is the stop that reported the failure). */
  failures: number;
  delayMs: number;
  timer?: NodeJS.Timeout;
  running: boolean;
  lastError: string;
  sandboxes: Set<string>;
}

export class TeardownRetries {
  private readonly entries = new Map<string, Entry>();
  private readonly initialMs: number;
  private readonly maxMs: number;
  private stopped = false;

  constructor(private readonly opts: TeardownRetryOptions) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = opts.maxMs ?? 30_000;
  }

  /** A stop of this pod's sandbox failed: log it loudly and (re)schedule a retry with backoff. */
  failed(ref: PodRef, sandboxId: string, message: string): void {
    if (this.stopped) return;
    let entry = this.entries.get(ref.uid);
    if (!entry) {
      entry = { ref: { uid: ref.uid, name: ref.name, namespace: ref.namespace }, failures: 0, delayMs: 0, running: false, lastError: '', sandboxes: new Set() };
      this.entries.set(ref.uid, entry);
    }
    entry.failures++;
    entry.lastError = message;
    entry.sandboxes.add(sandboxId);
    if (entry.running) return; // the retry in flight schedules the next one
    // A failure reported while a retry waits (another caller's stop) does not push it back.
    if (entry.timer) return;
    this.schedule(entry);
  }

  /** Pods with a sandbox whose teardown failed and is being retried. */
  pending(): Array<{ uid: string; name: string; namespace: string; sandboxes: string[]; failures: number; nextRetryMs: number; lastError: string }> {
    return [...this.entries.values()].map((e) => ({ ...e.ref, sandboxes: [...e.sandboxes], failures: e.failures, nextRetryMs: e.delayMs, lastError: e.lastError }));
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }

  private schedule(entry: Entry): void {
    entry.delayMs = entry.delayMs === 0 ? this.initialMs : Math.min(entry.delayMs * 2, this.maxMs);
    this.opts.logger.warn({
      ...podLogFields(entry.ref), uid: entry.ref.uid, sandboxes: [...entry.sandboxes], failures: entry.failures, retryInMs: entry.delayMs, err: entry.lastError,
    }, 'pod sandbox could not be stopped (network teardown failed?); the sandbox, its network namespace and IP are kept, retrying');
    entry.timer = setTimeout(() => void this.run(entry), entry.delayMs);
    entry.timer.unref();
  }

  private async run(entry: Entry): Promise<void> {
    entry.timer = undefined;
    if (this.stopped || this.entries.get(entry.ref.uid) !== entry) return;
    entry.running = true;
    const failuresBefore = entry.failures;
    let done = false;
    try {
      done = await this.opts.retry(entry.ref, [...entry.sandboxes]);
    } catch (err) {
      entry.failures++;
      entry.lastError = err instanceof Error ? err.message : String(err);
    } finally {
      entry.running = false;
    }
    if (this.stopped || this.entries.get(entry.ref.uid) !== entry) return;
    if (done) {
      this.entries.delete(entry.ref.uid);
      this.opts.logger.info({ ...podLogFields(entry.ref), uid: entry.ref.uid, sandboxes: [...entry.sandboxes], failedAttempts: entry.failures }, 'pod sandbox stopped and its network torn down after failed attempts');
      return;
    }
    if (entry.failures === failuresBefore) entry.failures++; // a retry that did not finish counts
    this.schedule(entry);
  }
}
