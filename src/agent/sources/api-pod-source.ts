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
    const later = (fn: () => void) => {
      if (!closed) timer = setTimeout(fn, retryDelayMs);
    };

    async function relist(): Promise<void> {
      if (closed) return;
      try {
        const list = await api.listPods(fieldSelector);
        const seen = new Set<string>();
        for (const pod of list.items) {
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
        logger.warn({ err: String(err) }, 'pod list failed; retrying');
        later(relist);
      }
    }

    async function watch(): Promise<void> {
      if (closed) return;
      let gone = false;
      stopWatch = await api.watchPods(fieldSelector, resourceVersion, (type, obj) => {
        if (type === 'BOOKMARK') {
          resourceVersion = obj?.metadata?.resourceVersion ?? resourceVersion;
          return;
        }
        if (type === 'ERROR') {
          // A Status object: 410 means our resourceVersion is too old to resume from.
          if (obj?.code === 410) gone = true;
          return;
        }
        const pod = obj as V1Pod;
        resourceVersion = pod.metadata?.resourceVersion ?? resourceVersion;
        if (type === 'DELETED') {
          known.delete(podUid(pod));
          emit('DELETE', pod);
        } else {
          const op = known.has(podUid(pod)) ? 'UPDATE' : 'ADD';
          known.set(podUid(pod), pod);
          emit(op, pod);
        }
      }, (err) => {
        if (closed) return;
        if (gone || statusOf(err) === 410) later(relist);
        else if (err) {
          logger.debug({ err: String(err) }, 'pod watch ended; relisting');
          later(relist);
        } else later(watch);
      }).catch((err) => {
        logger.warn({ err: String(err) }, 'pod watch failed to start; relisting');
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
