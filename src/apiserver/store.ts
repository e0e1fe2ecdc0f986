// In-memory object storage: every object of every kind, one resourceVersion counter across
// all of them (as etcd's revision), and a bounded history of changes that watches replay.
// Callers get copies; nothing outside can mutate what is stored.

export type KubeObject = Record<string, any> & { metadata: Record<string, any> };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  resource: string;
  rv: number;
  object: KubeObject;
  /** The object before this change (MODIFIED, DELETED): watches with selectors need it. */
  previous?: KubeObject;
}

export class ObjectStore {
  private rv = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: StoreEvent[] = [];
  /** Every change with rv > compactedRv is still in history. */
  private compactedRv = 0;
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  constructor(private readonly historyLimit = 1000) {}

  currentRv(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may still start from. */
  oldestWatchableRv(): number {
    return this.compactedRv;
  }

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const obj = this.objects.get(resource)?.get(keyOf(namespace, name));
    return obj ? structuredClone(obj) : undefined;
  }

  /** Objects of one resource (one namespace, or all when namespace is undefined), sorted by namespace/name. */
  list(resource: string, namespace?: string): KubeObject[] {
    const all = [...(this.objects.get(resource)?.entries() ?? [])];
    return all
      .filter(([, o]) => namespace === undefined || (o.metadata.namespace ?? '') === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => structuredClone(o));
  }

  /**
   * The stored objects of one resource (one namespace, or all), in no order and not copied: for
   * questions asked on every request (the Node authorizer's), where copying thousands of pods
   * each time was most of the server's work. Callers must not change what they are given.
   */
  *scan(resource: string, namespace?: string): IterableIterator<Readonly<KubeObject>> {
    for (const o of this.objects.get(resource)?.values() ?? []) {
      if (namespace === undefined || (o.metadata.namespace ?? '') === namespace) yield o;
    }
  }

  create(resource: string, obj: KubeObject): KubeObject {
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    this.bucket(resource).set(keyOf(stored.metadata.namespace, stored.metadata.name), stored);
    this.record({ type: 'ADDED', resource, rv: this.rv, object: stored });
    return structuredClone(stored);
  }

  update(resource: string, obj: KubeObject): KubeObject {
    const key = keyOf(obj.metadata.namespace, obj.metadata.name);
    const previous = this.bucket(resource).get(key);
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    this.bucket(resource).set(key, stored);
    this.record({ type: 'MODIFIED', resource, rv: this.rv, object: stored, previous });
    return structuredClone(stored);
  }

  /** Removes the object; the DELETED event carries it with the deletion's resourceVersion, as etcd3 storage does. */
  delete(resource: string, namespace: string, name: string): KubeObject | undefined {
    const key = keyOf(namespace, name);
    const previous = this.bucket(resource).get(key);
    if (!previous) return undefined;
    this.bucket(resource).delete(key);
    const gone = structuredClone(previous);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record({ type: 'DELETED', resource, rv: this.rv, object: gone, previous });
    return structuredClone(gone);
  }

  /** Changes after rv, or 'expired' when some of them were dropped from the history. */
  changesSince(rv: number): StoreEvent[] | 'expired' {
    if (rv < this.compactedRv) return 'expired';
    const start = this.history.findIndex((e) => e.rv > rv);
    return start < 0 ? [] : this.history.slice(start);
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private bucket(resource: string): Map<string, KubeObject> {
    let b = this.objects.get(resource);
    if (!b) this.objects.set(resource, (b = new Map()));
    return b;
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    while (this.history.length > this.historyLimit) this.compactedRv = this.history.shift()!.rv;
    for (const l of [...this.listeners]) l(event);
  }
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}
