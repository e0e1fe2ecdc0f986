// v1 Events about pods, as the kubelet records them: source kubelet/<node>, the container in
// involvedObject.fieldPath, and repeats of the same event folded into one with a count. Like the
// kubelet's event correlator, once one object's events of one reason have come with 10 different
// messages in the window (a probe whose output changes every time), the rest are folded into a
// single "(combined from similar events): ..." event, so one bad probe cannot flood the stream.
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

export interface EventRecorder {
  record(pod: V1Pod, event: PodEvent): void;
}

export const discardEvents: EventRecorder = { record: () => {} };

export function createEventRecorder(api: KubeApi, nodeName: string, logger: Logger): EventRecorder {
  // The kubelet's defaults (eventRecordQPS 50, eventBurst 100): probes alone can send several a second.
  const bucket = new TokenBucket(50, 100);
  const seen = new Map<string, { name: string; namespace: string; count: number; firstMs: number }>();
  /** Per object and reason: the distinct messages seen in the window, and when it began. */
  const similar = new Map<string, { messages: Set<string>; firstMs: number }>();
  let chain: Promise<void> = Promise.resolve();

  async function send(pod: V1Pod, e: PodEvent, nowMs: number): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const fieldPath = e.container ? `spec.containers{${e.container}}` : undefined;
    const similarKey = [pod.metadata?.uid, fieldPath, e.type, e.reason].join('\0');
    let group = similar.get(similarKey);
    if (!group || nowMs - group.firstMs >= aggregationWindowMs) similar.set(similarKey, group = { messages: new Set(), firstMs: nowMs });
    const combine = !group.messages.has(e.message) && group.messages.size >= similarEventsBeforeCombining;
    if (!combine) group.messages.add(e.message);
    const message = combine ? `(combined from similar events): ${e.message}` : e.message;
    const key = combine ? `${similarKey}\0combined` : [similarKey, e.message].join('\0');
    const now = new Date(nowMs);
    if (seen.size > 1000) {
      // Keep memory bounded: events past the window can no longer be folded into.
      for (const [k, v] of seen) if (nowMs - v.firstMs >= aggregationWindowMs) seen.delete(k);
      for (const [k, v] of similar) if (nowMs - v.firstMs >= aggregationWindowMs) similar.delete(k);
    }
    const prior = seen.get(key);
    await bucket.take();
    if (prior && nowMs - prior.firstMs < aggregationWindowMs) {
      prior.count += 1;
      await api.patchEvent(prior.namespace, prior.name, { count: prior.count, lastTimestamp: apiTime(now), ...(combine ? { message } : {}) });
      return;
    }
    const name = `${pod.metadata?.name}.${(nowMs * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`;
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
    seen.set(key, { name, namespace, count: 1, firstMs: nowMs });
  }

  return {
    record(pod, event) {
      const nowMs = Date.now();
      // One at a time, in order: counts of repeats must not race.
      chain = chain.then(() => send(pod, event, nowMs)).catch((err) => {
        logger.debug({ err: String(err), reason: event.reason }, 'event not recorded');
      });
    },
  };
}
