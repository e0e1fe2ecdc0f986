// v1 Events about pods, as the kubelet records them: source kubelet/<node>, the container in
// involvedObject.fieldPath, and repeats of the same event folded into one with a count. Like the
// kubelet's event correlator, once one object's events of one reason have come with 10 different
// messages in the window (a probe whose output changes every time), the rest are folded into a
// single "(combined from similar events): ..." event, so one bad probe cannot flood the stream.
// Like its spam filter, one object may send 25 events at once and one per 5 minutes after that.
// Each pod's events go out in order, one at a time (counts of repeats must not race); different
// pods' go side by side, so a busy pod cannot delay another pod's first event.
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodEvent } from '../../cri/runtime-manager/pod-runtime.ts';
import type { KubeApi } from '../api/kube-api.ts';
import { TokenBucket } from '../util/token-bucket.ts';
import { apiTime } from '../api/api-time.ts';

/** Repeats within this window are folded into the first event (kubelet's aggregation window). */
const aggregationWindowMs = 10 * 60_000;
/** Distinct messages of one object and reason in the window before the rest are combined. */
const similarEventsBeforeCombining = 10;
/** Events (and similar-event groups) remembered at most, oldest forgotten first: the kubelet's
 * correlator keeps an LRU cache of 4096. */
export const rememberedEvents = 4096;

/**
 * Drops what can no longer be folded into: entries past the window, and the oldest beyond
 * rememberedEvents. The maps are kept in order of firstMs (an entry is re-inserted when it
 * starts anew), so only the front is looked at: a node with thousands of pods records
 * thousands of events, and walking them all for each one was most of the agent's work.
 */
function forgetOld(entries: Map<string, { firstMs: number }>, nowMs: number): void {
  for (const [k, v] of entries) {
    if (entries.size <= rememberedEvents && nowMs - v.firstMs < aggregationWindowMs) return;
    entries.delete(k);
  }
}

/** The kubelet's spam filter per object: a burst of 25, then one token every 5 minutes. */
const spamBurst = 25;
const spamRefillMs = 5 * 60_000;

export interface EventRecorder {
  record(pod: V1Pod, event: PodEvent): void;
}

/** Longest object name the API takes (a DNS subdomain). */
const maxNameLength = 253;

/** "<pod name>.<suffix>", the pod name cut so the whole stays a valid name: a pod may use all 253
 * characters, and the API would refuse every event about it. The cut name never ends a label
 * with '-' or '.'; involvedObject carries the full name. */
export function eventName(podName: string, suffix: string): string {
  const prefix = podName.slice(0, maxNameLength - suffix.length - 1).replace(/[-.]+$/, '');
  return prefix ? `${prefix}.${suffix}` : suffix;
}

export const discardEvents: EventRecorder = { record: () => {} };

export function createEventRecorder(
  api: KubeApi, nodeName: string, logger: Logger, limit: { qps: number; burst: number } = { qps: 50, burst: 100 }, clock: () => number = Date.now,
): EventRecorder {
  // The kubelet's defaults (eventRecordQPS 50, eventBurst 100): probes alone can send several a second.
  const bucket = new TokenBucket(limit.qps, limit.burst);
  const seen = new Map<string, { name: string; namespace: string; count: number; firstMs: number }>();
  /** Per object and reason: the distinct messages seen in the window, and when it began. */
  const similar = new Map<string, { messages: Set<string>; firstMs: number }>();
  /** Per pod: the tail of its events in flight. */
  const chains = new Map<string, Promise<void>>();
  /** Per pod: spam-filter tokens, kept in order of use (the least recently used forgotten first). */
  const spam = new Map<string, { tokens: number; atMs: number }>();

  /** Takes one of the object's tokens; false: the event is dropped, as the kubelet drops it. */
  function spamAllows(key: string, nowMs: number): boolean {
    const last = spam.get(key);
    spam.delete(key);
    const tokens = last ? Math.min(spamBurst, last.tokens + (nowMs - last.atMs) / spamRefillMs) : spamBurst;
    if (spam.size >= rememberedEvents) spam.delete(spam.keys().next().value!);
    if (tokens < 1) {
      spam.set(key, { tokens, atMs: nowMs });
      return false;
    }
    spam.set(key, { tokens: tokens - 1, atMs: nowMs });
    return true;
  }

  async function send(pod: V1Pod, e: PodEvent, nowMs: number): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const fieldPath = e.container ? `spec.containers{${e.container}}` : undefined;
    const similarKey = [pod.metadata?.uid, fieldPath, e.type, e.reason].join('\0');
    let group = similar.get(similarKey);
    if (!group || nowMs - group.firstMs >= aggregationWindowMs) {
      // Deleted first so that it moves to the end: both maps stay in order of firstMs.
      similar.delete(similarKey);
      similar.set(similarKey, group = { messages: new Set(), firstMs: nowMs });
    }
    const combine = !group.messages.has(e.message) && group.messages.size >= similarEventsBeforeCombining;
    if (!combine) group.messages.add(e.message);
    const message = combine ? `(combined from similar events): ${e.message}` : e.message;
    const key = combine ? `${similarKey}\0combined` : [similarKey, e.message].join('\0');
    const now = new Date(nowMs);
    forgetOld(seen, nowMs);
    forgetOld(similar, nowMs);
    const prior = seen.get(key);
    await bucket.take();
    if (prior && nowMs - prior.firstMs < aggregationWindowMs) {
      prior.count += 1;
      await api.patchEvent(prior.namespace, prior.name, { count: prior.count, lastTimestamp: apiTime(now), ...(combine ? { message } : {}) });
      return;
    }
    const name = eventName(pod.metadata?.name ?? '', (nowMs * 1e6 + Math.floor(Math.random() * 1e6)).toString(16));
    const body: CoreV1Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: 'v1', kind: 'Pod', namespace, name: pod.metadata?.name, uid: pod.metadata?.uid,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason: e.reason,
      message,
      type: e.type,
      source: { component: 'kubelet', host: nodeName },
      reportingComponent: 'kubelet',
      reportingInstance: nodeName,
      firstTimestamp: apiTime(now),
      lastTimestamp: apiTime(now),
      count: 1,
    };
    await api.createEvent(body);
    seen.delete(key);
    seen.set(key, { name, namespace, count: 1, firstMs: nowMs });
  }

  return {
    record(pod, event) {
      const nowMs = clock();
      const key = pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`;
      if (!spamAllows(key, nowMs)) {
        logger.debug({ pod: pod.metadata?.name, reason: event.reason }, 'event dropped by the spam filter');
        return;
      }
      const next = (chains.get(key) ?? Promise.resolve()).then(() => send(pod, event, nowMs)).catch((err) => {
        logger.debug({ err: String(err), reason: event.reason }, 'event not recorded');
      });
      chains.set(key, next);
      void next.then(() => { if (chains.get(key) === next) chains.delete(key); });
    },
  };
}
