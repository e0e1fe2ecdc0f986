// One watch per ConfigMap or Secret that set-up pods reference, shared by every pod that uses
// it and stopped when the last one lets go. A change names the pods to refresh, so an update
// reaches the files in seconds instead of at the next periodic sync.
import type { V1Pod } from '@kubernetes/client-node';
import type { VolumeSources } from './pod-volumes.ts';
import { outsidePodLogScope } from '../pod/pod-log-scope.ts';

export interface ObjectRef {
  kind: 'ConfigMap' | 'Secret';
  namespace: string;
  name: string;
}

/** The ConfigMaps and Secrets the pod's volumes read (whether or not they exist yet). */
export function referencedObjects(pod: V1Pod): ObjectRef[] {
  const namespace = pod.metadata?.namespace ?? 'default';
  const refs = new Map<string, ObjectRef>();
  const add = (kind: ObjectRef['kind'], name: string | undefined) => {
    if (name) refs.set(`${kind}/${name}`, { kind, namespace, name });
  };
  for (const v of pod.spec?.volumes ?? []) {
    add('ConfigMap', v.configMap?.name);
    add('Secret', v.secret?.secretName);
    for (const s of v.projected?.sources ?? []) {
      add('ConfigMap', s.configMap?.name);
      add('Secret', s.secret?.name);
    }
  }
  return [...refs.values()];
}

interface SharedWatch {
  stop: () => void;
  uids: Set<string>;
}

export class ObjectWatches {
  private readonly watches = new Map<string, SharedWatch>();
  private readonly byPod = new Map<string, Set<string>>();
  /** After stop, a setUp still in flight must not start a watch that nothing would ever end. */
  private stopped = false;

  constructor(private readonly sources: VolumeSources, private readonly onChange: (uids: string[]) => void) {}

  /** Makes the pod's watched objects exactly `refs`: starts what is new, lets go of the rest. */
  use(uid: string, refs: ObjectRef[]): void {
    if (this.stopped) return;
    const wanted = new Set(refs.map(keyOf));
    const had = this.byPod.get(uid) ?? new Set<string>();
    for (const key of had) if (!wanted.has(key)) this.letGo(uid, key);
    for (const ref of refs) {
      const key = keyOf(ref);
      let watch = this.watches.get(key);
      if (!watch) {
        const uids = new Set<string>();
        // Outside the pod's log scope: the watch serves every pod that shares the object.
        const stop = outsidePodLogScope(() => this.sources.watchObject(ref.kind, ref.namespace, ref.name, () => this.onChange([...uids])));
        watch = { stop, uids };
        this.watches.set(key, watch);
      }
      watch.uids.add(uid);
    }
    if (wanted.size) this.byPod.set(uid, wanted);
    else this.byPod.delete(uid);
  }

  release(uid: string): void {
    this.use(uid, []);
  }

  /** How many objects are watched now (for tests and logs). */
  get size(): number {
    return this.watches.size;
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches.values()) w.stop();
    this.watches.clear();
    this.byPod.clear();
  }

  private letGo(uid: string, key: string): void {
    const watch = this.watches.get(key);
    if (!watch) return;
    watch.uids.delete(uid);
    if (watch.uids.size === 0) {
      watch.stop();
      this.watches.delete(key);
    }
  }
}

function keyOf(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}
