// Pods bound to this node, from the API server: list, then watch from the list's
// resourceVersion; on 410 Gone (or a failed watch that cannot resume) list again and
// emit the difference, so no update is ever lost. Mirror pods are emitted too: the
// pod registry keeps them apart from the pods it runs.
import { Observable } from 'rxjs';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeApi } from '../api/kube-api.ts';
import { statusOf } from '../api/kube-api.ts';
import { podUid, type PodUpdate } from './pod-update.ts';

/**
 * Why an object from the API server cannot be handled as a pod, or undefined when it can.
 * A server (or a proxy in between) may send anything; one bad object must not stop the source.
 */
export function malformedPodProblem(obj: unknown): string | undefined {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return `not an object (${obj === null ? 'null' : typeof obj})`;
  const metadata = (obj as V1Pod).metadata as unknown;
  if (typeof metadata !== 'object' || metadata === null) return 'no metadata';
  const { name, uid, namespace } = metadata as Record<string, unknown>;
  if (typeof name !== 'string' || !name) return 'no metadata.name';
  if (typeof uid !== 'string' || !uid) return 'no metadata.uid';
  if (namespace !== undefined && typeof namespace !== 'string') return 'metadata.namespace is not a string';
  return undefined;
}

export interface ApiPodSourceOptions {
  /** Delay before re-watching after a watch ended or a list failed. */
  retryDelayMs?: number;
  /** Called once, after the first list's pods were emitted. */
  onSynced?: () => void;
}

export function apiPodSource(api: KubeApi, nodeName: string, logger: Logger, opts: ApiPodSourceOptions = {}): Observable<PodUpdate> {
  const fieldSelector = `spec.nodeName=${nodeName}`;
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  return new Observable<PodUpdate>((subscriber) => {
    const known = new Map<string, V1Pod>();
    let resourceVersion = '';
    let stopWatch: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let closed = false;

    const emit = (op: PodUpdate['op'], pod: V1Pod) => subscriber.next({ op, source: 'api', pod });
    /** The object as a pod, or undefined (logged) when it cannot be one. */
    const wellFormed = (obj: unknown, where: string): V1Pod | undefined => {
      const problem = malformedPodProblem(obj);
      if (problem) logger.warn({ where, problem }, 'skipping malformed pod from the API server');
      return problem ? undefined : obj as V1Pod;
    };
    const later = (fn: () => void) => {
      if (!closed) timer = setTimeout(fn, retryDelayMs);
    };

    async function relist(): Promise<void> {
      if (closed) return;
      try {
        const list = await api.listPods(fieldSelector);
        const seen = new Set<string>();
        for (const item of list.items ?? []) {
          const pod = wellFormed(item, 'list');
          if (!pod) continue;
          seen.add(podUid(pod));
          const before = known.get(podUid(pod));
          known.set(podUid(pod), pod);
          if (!before) emit('ADD', pod);
          else if (before.metadata?.resourceVersion !== pod.metadata?.resourceVersion) emit('UPDATE', pod);
        }
        for (const [uid, pod] of known) {
          if (!seen.has(uid)) {
            known.delete(uid);
            emit('DELETE', pod);
          }
        }
        resourceVersion = list.metadata?.resourceVersion ?? '';
        opts.onSynced?.();
        await watch();
      } catch (err) {
        logger.warn({ err }, 'pod list failed; retrying');
        later(relist);
      }
    }

    async function watch(): Promise<void> {
      if (closed) return;
      let gone = false;
      const onWatchEvent = (type: string, obj: any) => {
        if (type === 'BOOKMARK') {
          resourceVersion = obj?.metadata?.resourceVersion ?? resourceVersion;
          return;
        }
        if (type === 'ERROR') {
          // A Status object: 410 means our resourceVersion is too old to resume from.
          if (obj?.code === 410) gone = true;
          return;
        }
        const pod = wellFormed(obj, `watch ${type}`);
        if (!pod) return;
        resourceVersion = pod.metadata?.resourceVersion ?? resourceVersion;
        if (type === 'DELETED') {
          known.delete(podUid(pod));
          emit('DELETE', pod);
        } else {
          const op = known.has(podUid(pod)) ? 'UPDATE' : 'ADD';
          known.set(podUid(pod), pod);
          emit(op, pod);
        }
      };
      stopWatch = await api.watchPods(fieldSelector, resourceVersion, (type, obj) => {
        // client-node drops what this callback throws without a word: catch it and say so.
        try {
          onWatchEvent(type, obj);
        } catch (err) {
          logger.error({ err, type }, 'pod watch event handling failed; event skipped');
        }
      }, (err) => {
        if (closed) return;
        if (gone || statusOf(err) === 410) later(relist);
        else if (err) {
          logger.debug({ err }, 'pod watch ended; relisting');
          later(relist);
        } else later(watch);
      }).catch((err) => {
        logger.warn({ err }, 'pod watch failed to start; relisting');
        later(relist);
        return undefined;
      });
    }

    void relist();
    return () => {
      closed = true;
      clearTimeout(timer);
      stopWatch?.();
    };
  });
}
