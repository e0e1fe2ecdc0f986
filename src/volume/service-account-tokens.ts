// Tokens for projected serviceAccountToken sources: requested from the API server bound to the
// pod, kept per pod, and renewed as the kubelet's token manager renews them: once 80 % of the
// requested lifetime has passed, or after 24 h, whichever comes first. A timer per token tells
// the manager when a pod's volumes need a refresh.
import type { V1Pod, V1ServiceAccountTokenProjection } from '@kubernetes/client-node';
import type { VolumeSources } from './pod-volumes.ts';
import { clampTimerMs } from '../util/timer-limit.ts';

export const DEFAULT_TOKEN_SECONDS = 3600;
const MAX_TOKEN_AGE_MS = 24 * 3600_000;

/** When a token issued for `expirationSeconds` that expires at `expiresAt` (ms) is due for renewal. */
export function tokenRefreshAt(expiresAt: number, expirationSeconds: number): number {
  const issuedAt = expiresAt - expirationSeconds * 1000;
  return Math.min(issuedAt + MAX_TOKEN_AGE_MS, expiresAt - expirationSeconds * 200);
}

interface CachedToken {
  token: string;
  refreshAt: number;
  timer: NodeJS.Timeout;
  /** Set when the renewal timer fired: timers may fire just before the wall clock reads refreshAt. */
  due: boolean;
}

export class ServiceAccountTokens {
  private readonly byPod = new Map<string, Map<string, CachedToken>>();
  private stopped = false;

  constructor(
    private readonly sources: VolumeSources,
    private readonly clock: () => number,
    private readonly onRefreshDue: (uid: string) => void,
  ) {}

  /** The pod's current token for this projection; a new one when none is cached or it is due. */
  async token(pod: V1Pod, projection: V1ServiceAccountTokenProjection): Promise<string> {
    const uid = pod.metadata?.uid ?? '';
    const namespace = pod.metadata?.namespace ?? 'default';
    const serviceAccount = pod.spec?.serviceAccountName || 'default';
    const expirationSeconds = projection.expirationSeconds ?? DEFAULT_TOKEN_SECONDS;
    const audiences = projection.audience ? [projection.audience] : undefined;
    const key = JSON.stringify([serviceAccount, audiences ?? [], expirationSeconds]);
    const tokens = this.byPod.get(uid) ?? new Map<string, CachedToken>();
    this.byPod.set(uid, tokens);
    const cached = tokens.get(key);
    if (cached && !cached.due && this.clock() < cached.refreshAt) return cached.token;

    const issued = await this.sources.requestServiceAccountToken(namespace, serviceAccount, {
      audiences, expirationSeconds, podName: pod.metadata?.name ?? '', podUid: uid,
    });
    if (cached) clearTimeout(cached.timer);
    const refreshAt = tokenRefreshAt(issued.expirationTimestamp.getTime(), expirationSeconds);
    // A refresh later than a timer can hold is rescheduled on the next setUp.
    const delay = clampTimerMs(refreshAt - this.clock());
    // After stop, a setUp still in flight gets its token but nothing is scheduled (stop cleared
    // every timer; a new one would keep the process alive with nothing left to end it).
    if (this.stopped) return issued.token;
    const entry: CachedToken = { token: issued.token, refreshAt, due: false, timer: setTimeout(() => {
      entry.due = true;
      this.onRefreshDue(uid);
    }, delay) };
    tokens.set(key, entry);
    return issued.token;
  }

  /** The earliest renewal due among the pod's tokens (ms), if it has any. */
  nextRefresh(uid: string): number | undefined {
    const times = [...(this.byPod.get(uid)?.values() ?? [])].map(t => t.refreshAt);
    return times.length ? Math.min(...times) : undefined;
  }

  forget(uid: string): void {
    for (const t of this.byPod.get(uid)?.values() ?? []) clearTimeout(t.timer);
    this.byPod.delete(uid);
  }

  stop(): void {
    this.stopped = true;
    for (const uid of [...this.byPod.keys()]) this.forget(uid);
  }
}
