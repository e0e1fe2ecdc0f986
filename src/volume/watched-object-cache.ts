// ConfigMaps and Secrets read through their watches, as the kubelet's watch-based manager
// reads them: while a pod's volumes keep an object watched, a sync reuses the copy last read
// instead of asking the API server again; the watch's change (or a minute passing, in case a
// change slipped in between the read and the watch) forgets it. Only objects that exist are
// kept, so one that appears is read again at the next sync.
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { VolumeSources } from './pod-volumes.ts';

const MAX_AGE_MS = 60_000;

type Kind = 'ConfigMap' | 'Secret';

export function cachedBehindWatches(sources: VolumeSources, clock: () => number): VolumeSources {
  const watchers = new Map<string, number>();
  const cache = new Map<string, { object: V1ConfigMap | V1Secret; readAtMs: number }>();
  const keyOf = (kind: Kind, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

  async function read<T extends V1ConfigMap | V1Secret>(kind: Kind, namespace: string, name: string, get: () => Promise<T | undefined>): Promise<T | undefined> {
    const key = keyOf(kind, namespace, name);
    const hit = cache.get(key);
    if (hit && clock() - hit.readAtMs < MAX_AGE_MS) return hit.object as T;
    const object = await get();
    if (object && watchers.has(key)) cache.set(key, { object, readAtMs: clock() });
    else cache.delete(key);
    return object;
  }

  return {
    ...sources,
    getConfigMap: (namespace, name) => read('ConfigMap', namespace, name, () => sources.getConfigMap(namespace, name)),
    getSecret: (namespace, name) => read('Secret', namespace, name, () => sources.getSecret(namespace, name)),
    watchObject(kind, namespace, name, onChange) {
      const key = keyOf(kind, namespace, name);
      watchers.set(key, (watchers.get(key) ?? 0) + 1);
      const stop = sources.watchObject(kind, namespace, name, () => {
        cache.delete(key);
        onChange();
      });
      return () => {
        stop();
        const left = (watchers.get(key) ?? 1) - 1;
        if (left > 0) watchers.set(key, left);
        else {
          watchers.delete(key);
          cache.delete(key);
        }
      };
    },
  };
}
