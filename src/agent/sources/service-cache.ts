// Every Service of the cluster, as the kubelet's service informer keeps them: list, then watch
// from the list's resourceVersion; on 410 Gone or a failed watch, list again and replace what
// is held. Containers read it when they are created, for their service variables
// (src/pod/service-env.ts); a changed Service wakes no pod, as in the kubelet (the variables
// are fixed at a container's start).
//
// Before the first list is in, a pod from the API server waits a moment for it, then its
// container fails with the kubelet's CreateContainerConfigError "services have not yet been read
// at least once, cannot construct envvars" and is retried by the pod worker's backoff. Without it
// a pod started right after the agent would miss KUBERNETES_SERVICE_HOST, which in-cluster
// clients read. Static pods do not wait (they may run the API server itself): they get what is
// there.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { statusOf, type KubeApi } from '../api/kube-api.ts';
import { isStaticPod } from './pod-update.ts';

export interface ServiceCache {
  /** Every Service held now (all namespaces). */
  list(): V1Service[];
  /** Whether the first list is in. */
  hasSynced(): boolean;
  /** The Services for a container of this pod; see the file comment for the wait. */
  servicesFor(pod: V1Pod): Promise<V1Service[]>;
  stop(): void;
}

export interface ServiceCacheOptions {
  /** Delay before listing or watching again after a failure or a closed watch (default 1 s). */
  retryDelayMs?: number;
  /** How long a pod's container waits for the first list before it fails (default 2 s). */
  syncWaitMs?: number;
}

export const SERVICES_NOT_SYNCED = 'services have not yet been read at least once, cannot construct envvars';

const keyOf = (s: V1Service) => `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
const wellFormed = (obj: unknown): obj is V1Service =>
  typeof obj === 'object' && obj !== null && typeof (obj as V1Service).metadata?.name === 'string';

export function startServiceCache(api: KubeApi, logger: Logger, opts: ServiceCacheOptions = {}): ServiceCache {
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  const syncWaitMs = opts.syncWaitMs ?? 2000;
  const held = new Map<string, V1Service>();
  let resourceVersion = '';
  let synced = false;
  let markSynced!: () => void;
  const firstList = new Promise<void>((resolve) => (markSynced = resolve));
  let stopWatch: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const later = (fn: () => Promise<void>) => {
    if (!closed) timer = setTimeout(() => void fn(), retryDelayMs);
  };

  async function relist(): Promise<void> {
    if (closed) return;
    try {
      const list = await api.listServices();
      held.clear();
      for (const item of list.items ?? []) if (wellFormed(item)) held.set(keyOf(item), item);
      resourceVersion = list.metadata?.resourceVersion ?? '';
      if (!synced) {
        synced = true;
        markSynced();
        logger.debug({ services: held.size }, 'services listed');
      }
    } catch (err) {
      logger.warn({ err }, 'service list failed; retrying');
      later(relist);
      return;
    }
    await watch();
  }

  async function watch(): Promise<void> {
    if (closed) return;
    let gone = false;
    const onEvent = (type: string, obj: any) => {
      if (type === 'BOOKMARK') {
        resourceVersion = obj?.metadata?.resourceVersion ?? resourceVersion;
        return;
      }
      if (type === 'ERROR') {
        if (obj?.code === 410) gone = true;
        return;
      }
      if (!wellFormed(obj)) return;
      resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
      if (type === 'DELETED') held.delete(keyOf(obj));
      else held.set(keyOf(obj), obj);
    };
    const stopper = await api.watchServices(resourceVersion, (type, obj) => {
      try {
        onEvent(type, obj);
      } catch (err) {
        logger.error({ err, type }, 'service watch event handling failed; event skipped');
      }
    }, (err) => {
      if (closed) return;
      // 410: our resourceVersion is too old to resume from; any other failure: list afresh too.
      if (gone || err) {
        if (err && statusOf(err) !== 410) logger.debug({ err }, 'service watch ended; relisting');
        later(relist);
      } else later(watch);
    }).catch((err) => {
      logger.warn({ err }, 'service watch failed to start; relisting');
      later(relist);
      return undefined;
    });
    stopWatch = stopper;
    if (closed) stopper?.();
  }

  void relist();

  return {
    list: () => [...held.values()],
    hasSynced: () => synced,
    async servicesFor(pod) {
      if (!synced && !isStaticPod(pod)) {
        let waited: NodeJS.Timeout | undefined;
        await Promise.race([firstList, new Promise<void>((resolve) => (waited = setTimeout(resolve, syncWaitMs)))]);
        clearTimeout(waited);
        if (!synced) throw new Error(SERVICES_NOT_SYNCED);
      }
      return [...held.values()];
    },
    stop() {
      closed = true;
      clearTimeout(timer);
      stopWatch?.();
    },
  };
}
