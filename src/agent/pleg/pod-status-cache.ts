// The runtime pod cache: the last full status read for each pod (the kubelet's pod cache), so a
// pod worker reads the runtime only when something may have changed there. An entry holds until
//   - the pod's worker changes the runtime (a sync that acted, a kill): the next read is fresh;
//   - a relist sees the pod in another shape than the entry (a container exited, a sandbox died,
//     the garbage collector removed something): PLEG drops the entry and wakes the worker;
//   - a runtime event names the pod (evented PLEG): same.
// A pod no relist has seen and no worker has touched holds nothing in the runtime (only its own
// worker creates there): its first read costs no CRI call. Rules that decide, no I/O of their own.
import type { KnownInstances, RuntimePodStatus } from '../../cri/runtime-manager/pod-runtime.ts';
import { fingerprint, type PodFingerprint } from './pleg-diff.ts';

export type ReadPodStatus = (uid: string, name: string, namespace: string, known?: KnownInstances) => Promise<RuntimePodStatus>;

interface CachedStatus {
  status: RuntimePodStatus;
  fingerprint: PodFingerprint;
}

/** What the cache did for one read (for tests and the debug log). */
export type CacheReadSource = 'cache' | 'known-empty' | 'runtime';

export class PodStatusCache {
  private readonly entries = new Map<string, CachedStatus>();
  /** Pods whose worker has changed the runtime since the agent started. */
  private readonly touched = new Set<string>();
  /** Forgotten pods still counted as touched until a relist that began after forget() ends. */
  private readonly forgotten = new Map<string, number>();
  /** UIDs present in the newest completed relist; undefined until one has completed. */
  private relistUids: ReadonlySet<string> | undefined;
  /** Bumped on every drop, so that a read overtaken by a change keeps its answer out of the cache. */
  private readonly generation = new Map<string, number>();
  private relistsStarted = 0;

  constructor(private readonly readRuntime: ReadPodStatus) {}

  /** The pod's status: the cached one if still good, else the runtime's (then cached); `known`:
   * the instances the pod has, when the caller knows them (see ReadPodStatus). */
  async read(uid: string, name: string, namespace: string, known?: KnownInstances): Promise<{ status: RuntimePodStatus; source: CacheReadSource }> {
    const cached = this.entries.get(uid);
    if (cached) return { status: cached.status, source: 'cache' };
    if (this.knownEmpty(uid)) return { status: { uid, name, namespace, sandboxes: [], containers: [] }, source: 'known-empty' };
    const gen = this.generation.get(uid) ?? 0;
    const status = await this.readRuntime(uid, name, namespace, known);
    // A mutation or relist change that came while reading may not be in this answer.
    if ((this.generation.get(uid) ?? 0) === gen) this.entries.set(uid, { status, fingerprint: fingerprint(status) });
    return { status, source: 'runtime' };
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

  /** A runtime event named the pod. */
  invalidate(uid: string): void {
    this.drop(uid);
  }

  /** A relist is starting; returns its token for relisted(). */
  relistStarted(): number {
    return ++this.relistsStarted;
  }

  /** A relist ended: drop the entries it contradicts; it becomes the basis for knownEmpty. */
  relisted(token: number, pods: ReadonlyMap<string, PodFingerprint>): void {
    for (const [uid, cached] of this.entries) {
      const seen = pods.get(uid) ?? fingerprint({ ...cached.status, sandboxes: [], containers: [] });
      if (seen !== cached.fingerprint) this.drop(uid);
    }
    this.relistUids = new Set(pods.keys());
    for (const [uid, forgottenAt] of this.forgotten) {
      if (token > forgottenAt) {
        this.forgotten.delete(uid);
        this.touched.delete(uid);
        this.generation.delete(uid);
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
    this.generation.set(uid, (this.generation.get(uid) ?? 0) + 1);
  }

  private knownEmpty(uid: string): boolean {
    return this.relistUids !== undefined && !this.relistUids.has(uid) && !this.touched.has(uid);
  }
}
