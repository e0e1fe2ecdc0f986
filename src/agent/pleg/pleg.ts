// The pod lifecycle event generator: relist the runtime every period (containerd 1.6 has no
// event stream), diff against the last relist, and emit the UIDs of pods that changed, so
// only those pods' workers wake up. Each relist is timed, the time since the previous one began
// is the interval (kubelet_pleg_relist_*), and what it found sets the running pods and containers.
// The pod cache hears of each relist before any worker wakes, so a woken worker reads afresh.
// At debug it logs what changed (a pod that appeared, changed or disappeared), one line a pod, and
// nothing for a relist that found nothing new (its CRI calls log at trace).
import { Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { PodRuntime } from '../../cri/runtime-manager/pod-runtime.ts';
import { podChanges, snapshotOf, type PodFingerprint } from './pleg-diff.ts';
import type { PlegMetrics } from '../metrics/agent-metrics.ts';
import type { PodStatusCache } from './pod-status-cache.ts';

export interface PlegOptions {
  periodMs: number;
  /** Snapshot of the startup relist, so that pods seen then do not all wake at once. */
  initial?: ReadonlyMap<string, PodFingerprint>;
  metrics?: PlegMetrics;
  cache?: Pick<PodStatusCache, 'relistStarted' | 'relisted'>;
}

export function podLifecycleEvents(runtime: PodRuntime, logger: Logger, opts: PlegOptions): Observable<string> {
  return new Observable<string>((subscriber) => {
    let last: ReadonlyMap<string, PodFingerprint> = opts.initial ?? new Map();
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    let lastStartedMs: number | undefined;
    /** "namespace/name" of the pods the last relist saw, for the line of one that disappears. */
    let names = new Map<string, string>();
    const log = logger.child({ component: 'pleg' });
    const relist = async () => {
      const startedMs = performance.now();
      const intervalSeconds = lastStartedMs === undefined ? undefined : (startedMs - lastStartedMs) / 1000;
      lastStartedMs = startedMs;
      const token = opts.cache?.relistStarted();
      try {
        const pods = await runtime.relist();
        opts.metrics?.relisted((performance.now() - startedMs) / 1000, intervalSeconds, pods);
        const next = snapshotOf(pods);
        if (closed) return;
        if (token !== undefined) opts.cache?.relisted(token, next);
        const changes = podChanges(last, next);
        if (changes.length) {
          const seen = new Map(pods.map((p) => [p.uid, `${p.namespace}/${p.name}`]));
          const byUid = new Map(pods.map((p) => [p.uid, p]));
          for (const { uid, change } of changes) {
            const pod = seen.get(uid) ?? names.get(uid);
            const now = byUid.get(uid);
            log.debug({
              ...(pod ? { pod } : {}), uid, change,
              ...(now ? { sandbox: now.sandboxes[0]?.state ?? 'none', containers: now.containers.map((c) => `${c.name}=${c.state}`).join(',') } : {}),
            }, `PLEG: pod ${change}`);
          }
          names = seen;
        } else if (names.size !== next.size) names = new Map(pods.map((p) => [p.uid, `${p.namespace}/${p.name}`]));
        for (const { uid } of changes) subscriber.next(uid);
        last = next;
      } catch (err) {
        opts.metrics?.relisted((performance.now() - startedMs) / 1000, intervalSeconds, undefined);
        logger.warn({ err }, 'PLEG relist failed');
      }
      if (!closed) timer = setTimeout(relist, opts.periodMs);
    };
    timer = setTimeout(relist, opts.periodMs);
    return () => {
      closed = true;
      clearTimeout(timer);
    };
  });
}
