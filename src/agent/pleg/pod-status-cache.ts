// The runtime pod cache: the last full status read for each pod (the kubelet's pod cache), so a
// pod worker reads the runtime only when something may have changed there. An entry holds until
//   - the pod's worker changes the runtime (a sync that acted, a kill): the next read is fresh;
//   - a relist sees the pod in another shape than the entry (a container exited, a sandbox died,
//     the garbage collector removed something): PLEG drops the entry and wakes the worker;
//   - a runtime event (evented PLEG) reports a change the entry does not show: same.
// A pod no relist has seen and no worker has touched holds nothing in the runtime (only its own
// worker creates there): its first read costs no CRI call. Rules that decide, no I/O of their own.
import type { KnownInstances, RuntimePodStatus } from '../../cri/runtime-manager/pod-runtime.ts';
import { fingerprint, type PodFingerprint } from './pleg-diff.ts';

export type ReadPodStatus = (uid: string, name: string, namespace: string, known?: KnownInstances) => Promise<RuntimePodStatus>;

interface CachedStatus {
  status: RuntimePodStatus;
  fingerprint: PodFingerprint;
}

/** The shape of a pod with nothing in the runtime. */
const EMPTY: PodFingerprint = fingerprint({ uid: '', name: '', namespace: '', sandboxes: [], containers: [] });

/** What a runtime event says happened to a sandbox or container. */
export type RuntimeChange = 'created' | 'started' | 'stopped' | 'deleted';

/** Whether a status already shows what an event reports. */
function shows(status: RuntimePodStatus, id: string, change: RuntimeChange): boolean {
  const sandbox = status.sandboxes.find((s) => s.id === id);
  const container = status.containers.find((c) => c.id === id);
  switch (change) {
    case 'deleted': return !sandbox && !container;
    case 'created': return Boolean(sandbox || container);
    case 'started': return sandbox ? sandbox.state === 'ready' : container !== undefined && (container.state === 'running' || container.state === 'exited');
    case 'stopped': return sandbox ? sandbox.state === 'notready' : container?.state === 'exited';
  }
}

/** What the cache did for one read (for tests and the debug log). */
export type CacheReadSource = 'cache' | 'known-empty' | 'runtime';

/** One read of the runtime in flight, and what happened to the pod meanwhile. */
interface ReadInFlight {
  /** The worker changed the runtime or the pod was forgotten: the answer may predate that. */
  stale: boolean;
  /** Events that came meanwhile: the answer is kept only if it shows them all. */
  events: Array<[id: string, change: RuntimeChange]>;
  /** The shape a relist that ended meanwhile saw: the answer is kept only if it agrees. */
  relistSaw?: PodFingerprint;
}

export class PodStatusCache {
  private readonly entries = new Map<string, CachedStatus>();
  private readonly reading = new Map<string, Set<ReadInFlight>>();
  /** Pods whose worker has changed the runtime since the agent started. */
  private readonly touched = new Set<string>();
  /** Forgotten pods still counted as touched until a relist that began after forget() ends. */
  private readonly forgotten = new Map<string, number>();
  /** UIDs present in the newest completed relist; undefined until one has completed. */
  private relistUids: ReadonlySet<string> | undefined;
  private relistsStarted = 0;

  constructor(private readonly readRuntime: ReadPodStatus) {}

  /** The pod's status: the cached one if still good, else the runtime's (then cached, unless
   * something happened to the pod while reading); `known`: the instances the pod has, when the
   * caller knows them (see ReadPodStatus). */
  async read(uid: string, name: string, namespace: string, known?: KnownInstances): Promise<{ status: RuntimePodStatus; source: CacheReadSource }> {
    const cached = this.entries.get(uid);
    if (cached) return { status: cached.status, source: 'cache' };
    if (this.knownEmpty(uid)) return { status: { uid, name, namespace, sandboxes: [], containers: [] }, source: 'known-empty' };
    const flight: ReadInFlight = { stale: false, events: [] };
    let flights = this.reading.get(uid);
    if (!flights) this.reading.set(uid, (flights = new Set()));
    flights.add(flight);
    try {
      const status = await this.readRuntime(uid, name, namespace, known);
      const fp = fingerprint(status);
      const keep = !flight.stale && (flight.relistSaw === undefined || flight.relistSaw === fp) && flight.events.every(([id, change]) => shows(status, id, change));
      if (keep) this.entries.set(uid, { status, fingerprint: fp });
      return { status, source: 'runtime' };
    } finally {
      flights.delete(flight);
      if (!flights.size) this.reading.delete(uid);
    }
  }

  /** The pod's worker may change the runtime now: from here on its reads go to the runtime
   * unless an entry holds. */
  acting(uid: string): void {
    this.touched.add(uid);
  }

  /** The pod's worker changed the runtime: what is cached no longer holds. */
  changed(uid: string): void {
    this.touched.add(uid);
    this.drop(uid);
  }

  /** A runtime event (evented PLEG) about one of the pod's sandboxes or containers: the entry
   * holds if it already shows that change (the worker's own read after its sync saw it), else
   * it is dropped. Returns whether it held. */
  eventSeen(uid: string, id: string, change: RuntimeChange): boolean {
    const cached = this.entries.get(uid);
    if (cached && shows(cached.status, id, change)) return true;
    this.entries.delete(uid);
    for (const flight of this.reading.get(uid) ?? []) flight.events.push([id, change]);
    return false;
  }

  /** A relist is starting; returns its token for relisted(). */
  relistStarted(): number {
    return ++this.relistsStarted;
  }

  /** A relist ended: drop the entries it contradicts (reads in flight are kept only if they
   * agree with it); it becomes the basis for knownEmpty. */
  relisted(token: number, pods: ReadonlyMap<string, PodFingerprint>): void {
    for (const [uid, cached] of this.entries) {
      if ((pods.get(uid) ?? EMPTY) !== cached.fingerprint) this.entries.delete(uid);
    }
    for (const [uid, flights] of this.reading) for (const flight of flights) flight.relistSaw = pods.get(uid) ?? EMPTY;
    this.relistUids = new Set(pods.keys());
    for (const [uid, forgottenAt] of this.forgotten) {
      if (token > forgottenAt) {
        this.forgotten.delete(uid);
        this.touched.delete(uid);
      }
    }
  }

  /** The pod is gone from the agent. */
  forget(uid: string): void {
    this.drop(uid);
    this.forgotten.set(uid, this.relistsStarted);
  }

  private drop(uid: string): void {
    this.entries.delete(uid);
    for (const flight of this.reading.get(uid) ?? []) flight.stale = true;
  }

  private knownEmpty(uid: string): boolean {
    return this.relistUids !== undefined && !this.relistUids.has(uid) && !this.touched.has(uid);
  }
}
