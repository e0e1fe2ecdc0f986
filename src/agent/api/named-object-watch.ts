// Keeps watching one named object (a ConfigMap or Secret a pod's volumes use), the way the
// kubelet's watch-based object cache does: list + watch narrowed by
// fieldSelector=metadata.name=<name>, which is all the Node authorizer lets a node read. A
// watch that ends or fails is started again from the last version seen, after a short delay;
// one whose version has expired (410) starts over with a list, and that list reports a change
// if the object moved or vanished meanwhile. The caller hears "it changed", never the object:
// it reads the object itself, so there is one source of truth for its content.
import type { Watcher } from './watch-stream.ts';

export interface NamedObjectWatchOptions {
  watcher: Watcher;
  /** The collection's path, e.g. /api/v1/namespaces/ns/configmaps. */
  path: string;
  name: string;
  /** Lists the collection narrowed to the name: its items and list resourceVersion. */
  list(fieldSelector: string): Promise<{ items: Array<{ metadata?: { resourceVersion?: string } }>; resourceVersion: string }>;
  onChange(): void;
  /** Delay before a new attempt after a watch ended or failed. */
  retryDelayMs: number;
  /** Told about failed attempts (they are retried regardless). */
  onError?(err: unknown): void;
}

const gone = 'absent';

/** Starts watching; returns the stopper. */
export function watchNamedObject(o: NamedObjectWatchOptions): () => void {
  const fieldSelector = `metadata.name=${o.name}`;
  let stopped = false;
  let controller: { abort(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** Where the next watch starts; '' means list first. */
  let resourceVersion = '';
  /** The object's version as last seen (or "absent"); undefined before the first list. */
  let seen: string | undefined;

  const relist = async () => {
    const list = await o.list(fieldSelector);
    const state = list.items[0]?.metadata?.resourceVersion ?? gone;
    const changed = seen !== undefined && state !== seen;
    seen = state;
    resourceVersion = list.resourceVersion;
    if (changed) o.onChange();
  };

  const retry = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => void run(), delayMs);
  };

  const run = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    try {
      if (!resourceVersion) await relist();
      if (stopped) return;
      const started = Date.now();
      controller = await o.watcher.watch(o.path, { fieldSelector, resourceVersion, allowWatchBookmarks: true }, (type: string, obj: any) => {
        if (stopped) return;
        if (type === 'ERROR') {
          // 410 Expired: the version is too old to resume from; list again.
          if (obj?.code === 410) resourceVersion = '';
          return;
        }
        const version = obj?.metadata?.resourceVersion;
        if (version) resourceVersion = version;
        if (type === 'BOOKMARK') return;
        seen = type === 'DELETED' ? gone : version;
        o.onChange();
      }, (err: unknown) => {
        controller = undefined;
        if (stopped) return;
        // A stream silent for 30 s ends without an error (watch-stream.ts): quiet, not broken.
        const failed = Boolean(err);
        if (failed) {
          if ((err as { statusCode?: number }).statusCode === 410) resourceVersion = '';
          o.onError?.(err);
        }
        // A watch that ended cleanly after a while resumes at once; anything quicker waits, so nothing spins.
        retry(!failed && Date.now() - started >= 1000 ? 0 : o.retryDelayMs);
      });
      if (stopped) controller?.abort();
    } catch (err) {
      o.onError?.(err);
      retry(o.retryDelayMs);
    }
  };

  void run();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    controller?.abort();
  };
}
