// The evented PLEG: where the runtime streams container events (GetContainerEvents, containerd
// 1.7+), each event wakes its pod's worker at once and the relist becomes a safety net that runs
// every eventedRelistPeriodMs (the kubelet: 300 s). Where it answers UNIMPLEMENTED (containerd
// 1.6) the generic PLEG (pleg.ts, every second) runs alone; where the stream breaks later, the
// generic period holds until a retry (with backoff) opens it again.
//
// The relist is pleg.ts itself, restarted with the period of the mode: the snapshot the running
// relist last acted on becomes the next one's starting point, so no change is lost or re-sent
// over a switch. Each switch also relists once at once, for what changed while nothing listened.
import { Observable, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { ContainerEventsOptions } from '../../cri/client.ts';
import type { PodRuntime } from '../../cri/runtime-manager/pod-runtime.ts';
import type { ContainerEventResponse } from '../../cri/types.ts';
import type { EventedPlegMetrics } from './evented-pleg-metrics.ts';
import { idsOfEvent, plegAfter, podUidOfEvent, runtimeChangeOf, type PlegMode, type StreamBackoff, type StreamOutcome } from './evented-pleg-rules.ts';
import { changedPods, snapshotOf, type PodFingerprint } from './pleg-diff.ts';
import { podLifecycleEvents, type PlegOptions } from './pleg.ts';
import type { PodStatusCache } from './pod-status-cache.ts';
import { RunningTally } from './running-tally.ts';

/** Opens the runtime's event stream (CriClient.containerEvents). */
export type ContainerEventSource = (opts: ContainerEventsOptions) => Observable<ContainerEventResponse>;

export const DEFAULT_STREAM_BACKOFF: StreamBackoff = { initialMs: 1_000, maxMs: 30_000 };
/** containerd sends no headers before the first event: a stream that has not failed by then is open. */
export const DEFAULT_OPEN_GRACE_MS = 1_000;

export interface EventedPlegOptions extends Omit<PlegOptions, 'periodMs' | 'cache'> {
  /** The generic PLEG's period: before the stream opens, and without one (kubelet: 1 s). */
  relistPeriodMs: number;
  /** The safety-net relist while events flow (intervals.eventedPlegRelistMs: 300 s, as the kubelet). */
  eventedRelistPeriodMs: number;
  /** No source: the generic PLEG only. */
  containerEvents?: ContainerEventSource;
  cache?: Pick<PodStatusCache, 'relistStarted' | 'relisted' | 'eventSeen'>;
  eventedMetrics?: EventedPlegMetrics;
  streamBackoff?: StreamBackoff;
  openGraceMs?: number;
}

export function eventedPodLifecycleEvents(runtime: PodRuntime, logger: Logger, opts: EventedPlegOptions): Observable<string> {
  const { relistPeriodMs, eventedRelistPeriodMs, containerEvents, cache, eventedMetrics, streamBackoff, openGraceMs, ...plegOpts } = opts;
  const log = logger.child({ component: 'pleg' });
  return new Observable<string>((subscriber) => {
    let closed = false;
    /** What the newest relist acted on: the next relist's starting point. */
    let processed: ReadonlyMap<string, PodFingerprint> = plegOpts.initial ?? new Map();
    const relistCache: NonNullable<PlegOptions['cache']> = {
      relistStarted: () => cache?.relistStarted() ?? 0,
      relisted: (token, pods) => {
        processed = pods;
        cache?.relisted(token, pods);
      },
    };
    // Every relist seeds the tally that events keep current (the running gauges between relists).
    const tally = new RunningTally();
    const listing: PodRuntime = Object.create(runtime, {
      relist: { value: async () => {
        const pods = await runtime.relist();
        tally.relisted(pods);
        return pods;
      } },
    });
    let relisting: Subscription | undefined;
    const relistEvery = (periodMs: number) => {
      relisting?.unsubscribe();
      relisting = podLifecycleEvents(listing, logger, { ...plegOpts, periodMs, initial: processed, cache: relistCache })
        .subscribe((uid) => subscriber.next(uid));
    };

    // One relist now, outside the periodic one: after a switch, or for an event naming no pod.
    let catchingUp: Promise<void> | undefined;
    let catchUpAgain = false;
    const catchUp = (): Promise<void> => {
      if (catchingUp) {
        catchUpAgain = true;
        return catchingUp;
      }
      catchingUp = (async () => {
        do {
          catchUpAgain = false;
          const startedMs = performance.now();
          const token = relistCache.relistStarted();
          try {
            const pods = await listing.relist();
            plegOpts.metrics?.relisted((performance.now() - startedMs) / 1000, undefined, pods);
            if (closed) return;
            const next = snapshotOf(pods);
            const changed = changedPods(processed, next);
            relistCache.relisted(token, next);
            for (const uid of changed) subscriber.next(uid);
          } catch (err) {
            log.warn({ err }, 'PLEG relist failed');
          }
        } while (catchUpAgain && !closed);
      })().finally(() => { catchingUp = undefined; });
      return catchingUp;
    };

    let mode: PlegMode = 'generic';
    let announced = false;
    const enter = (next: PlegMode, why: string) => {
      const periodMs = next === 'evented' ? eventedRelistPeriodMs : relistPeriodMs;
      if (!announced || next !== mode) {
        const fields = { pleg: next, relistPeriodMs: periodMs };
        if (announced && next === 'generic') log.warn(fields, `PLEG: ${why}`);
        else log.info(fields, `PLEG: ${why}`);
      }
      const switched = next !== mode;
      announced = true;
      mode = next;
      if (switched) void catchUp().then(() => { if (!closed && mode === next) relistEvery(periodMs); });
    };

    // Which pod each sandbox and container id belongs to, for events that no longer show it.
    const podOfId = new Map<string, string>();
    const onEvent = (event: ContainerEventResponse) => {
      if (event.createdAt > 0) eventedMetrics?.eventReceived(Date.now() / 1000 - event.createdAt / 1e9);
      const uid = podUidOfEvent(event, podOfId);
      if (uid) for (const id of idsOfEvent(event)) if (id) podOfId.set(id, uid);
      if (event.containerEventType === 'CONTAINER_DELETED_EVENT') podOfId.delete(event.containerId);
      if (!uid) {
        log.debug({ containerId: event.containerId, type: event.containerEventType }, 'container event names no pod; relisting');
        void catchUp();
        return;
      }
      tally.apply(uid, event);
      eventedMetrics?.running(tally.counts());
      // Unless the pod's cached status already shows this change (its worker's read after the
      // sync that made it), the worker must read the runtime afresh.
      cache?.eventSeen(uid, event.containerId, runtimeChangeOf(event.containerEventType));
      subscriber.next(uid);
    };

    let stream: Subscription | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let failures = 0;
    const backoff = streamBackoff ?? DEFAULT_STREAM_BACKOFF;
    const openStream = () => {
      if (closed || !containerEvents) return;
      let opened = false;
      let graceTimer: NodeJS.Timeout | undefined;
      const markOpen = () => {
        if (opened || closed) return;
        opened = true;
        clearTimeout(graceTimer);
        failures = 0;
        eventedMetrics?.streamOpened();
        enter(plegAfter({ kind: 'opened' }, 0, backoff).mode, `evented: container events from the runtime, relist every ${eventedRelistPeriodMs / 1000} s as a safety net`);
      };
      const down = (outcome: StreamOutcome, err?: unknown) => {
        clearTimeout(graceTimer);
        if (closed) return;
        stream = undefined;
        eventedMetrics?.streamFailed();
        failures = opened ? 1 : failures + 1;
        const decision = plegAfter(outcome, failures, backoff);
        const why = decision.retryInMs === undefined
          ? `generic: the runtime has no container events (GetContainerEvents unimplemented), relist every ${relistPeriodMs / 1000} s`
          : `generic: container event stream ${outcome.kind === 'ended' ? 'ended' : 'failed'}, relist every ${relistPeriodMs / 1000} s; retrying it in ${decision.retryInMs} ms`;
        if (!announced || mode !== decision.mode) enter(decision.mode, why);
        else log.debug({ err, retryInMs: decision.retryInMs }, 'container event stream failed again');
        if (decision.retryInMs !== undefined) retryTimer = setTimeout(openStream, decision.retryInMs);
      };
      graceTimer = setTimeout(markOpen, openGraceMs ?? DEFAULT_OPEN_GRACE_MS);
      stream = containerEvents({ onOpen: markOpen }).subscribe({
        next: (event) => {
          markOpen();
          onEvent(event);
        },
        error: (err: unknown) => down({ kind: 'failed', code: (err as { code?: number } | undefined)?.code }, err),
        complete: () => down({ kind: 'ended' }),
      });
    };

    // Until the stream has answered, the generic period: nothing is missed while it opens.
    relistEvery(relistPeriodMs);
    if (containerEvents) openStream();
    else enter('generic', `generic: relist every ${relistPeriodMs / 1000} s`);

    return () => {
      closed = true;
      clearTimeout(retryTimer);
      stream?.unsubscribe();
      relisting?.unsubscribe();
    };
  });
}
