// The volume manager: makes each pod's volumes ready before its containers are created, keeps
// their content current, and removes them with the pod. One pod at a time per UID (calls for the
// same pod queue up); different pods proceed in parallel.
import { chmod, lstat, mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { Subject } from 'rxjs';
import type { Logger } from '../agent/logger.ts';
import { podLogFields, podRefOf } from '../pod/pod-ref.ts';
import { DATA_DIR, writeAtomically, type Payload } from './atomic-writer.ts';
import { containerMounts } from './container-mounts.ts';
import { prepareHostPath } from './host-path.ts';
import { memoryVolumeBytes } from './memory-medium.ts';
import { payloadDigest } from './payload-digest.ts';
import { isLikelyMountPoint, isTmpfsMountPoint, mountTmpfs, mountsUnder, unmount } from './mount-table.ts';
import { ObjectWatches, referencedObjects } from './object-watches.ts';
import { ownershipMode, ownershipSettled, setVolumeOwnership } from './ownership.ts';
import { claimedHostPath } from './persistent-volume-claim.ts';
import type { PodVolumeManager, ReadyVolumes, VolumeSources } from './pod-volumes.ts';
import { ServiceAccountTokens } from './service-account-tokens.ts';
import { cachedBehindWatches } from './watched-object-cache.ts';
import { setUpFailed, VolumeContentError, VolumeSetupFailure } from './setup-errors.ts';
import { configMapPayload, downwardApiVolumePayload, projectedPayload, secretPayload, type ContentContext } from './volume-content.ts';
import { podDir, podVolumesDir, volumeDir, volumePlugin, type VolumePlugin } from './volume-layout.ts';

export interface VolumeManagerOptions {
  rootDir: string;
  /** The API server's objects; undefined when the agent runs standalone (emptyDir, hostPath, downwardAPI only). */
  sources: VolumeSources | undefined;
  nodeName: string;
  logger: Logger;
  /** ms since the epoch; tests move it to make tokens due. */
  clock?: () => number;
  /** Mount tmpfs and change ownership (needs root). Default: whether the agent runs as root. */
  canMount?: boolean;
}

// emptyDir and the directories under content volumes are world-writable, as the kubelet makes them.
const EMPTY_DIR_MODE = 0o777;
// The content types keep their data in memory, as the kubelet does (secrets never touch disk).
const ON_TMPFS = new Set<VolumePlugin>(['secret', 'projected']);
const CONTENT = new Set<VolumePlugin>(['configmap', 'secret', 'downward-api', 'projected']);

interface ReadyVolume {
  plugin: VolumePlugin;
  path: string;
}

/** What one setUp call made, so that a failure can remove it again. */
interface Made {
  dirs: string[];
}

export function createVolumeManager(opts: VolumeManagerOptions): PodVolumeManager {
  const logger = opts.logger.child({ component: 'volume' });
  const clock = opts.clock ?? Date.now;
  const canMount = opts.canMount ?? process.getuid?.() === 0;
  const refreshes = new Subject<string>();
  // ConfigMaps and Secrets a pod's volumes use are read once per change, not once per sync.
  const sources = opts.sources && cachedBehindWatches(opts.sources, clock);
  const tokens = sources ? new ServiceAccountTokens(sources, clock, uid => refreshes.next(uid)) : undefined;
  const watches = sources ? new ObjectWatches(sources, uids => uids.forEach(uid => refreshes.next(uid))) : undefined;
  const ready = new Map<string, Map<string, ReadyVolume>>();
  /** Pod UID → volume name → digest of the payload last written there (by this process). */
  const writtenDigests = new Map<string, Map<string, string>>();
  const queues = new Map<string, Promise<unknown>>();

  if (!canMount) {
    logger.warn({ rootDir: opts.rootDir }, 'not root: secret, projected and Memory emptyDir volumes are plain directories on disk instead of tmpfs, and fsGroup ownership is not applied');
  }

  /** Runs fn after every earlier call for the same pod. */
  function serialized<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const previous = queues.get(uid) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    queues.set(uid, settled);
    void settled.then(() => { if (queues.get(uid) === settled) queues.delete(uid); });
    return next;
  }

  /** mkdir -p that records the topmost directory it made, never above the pod's own directory (other pods share <root>/pods). */
  async function makeDir(path: string, uid: string, made: Made): Promise<void> {
    const pods = dirname(podDir(opts.rootDir, uid));
    await mkdir(pods, { recursive: true });
    let top: string | undefined;
    for (let p = path; p !== pods && p !== dirname(p); p = dirname(p)) {
      if (await exists(p)) break;
      top = p;
    }
    await mkdir(path, { recursive: true });
    if (top) made.dirs.push(top);
  }

  async function undo(made: Made): Promise<void> {
    for (const dir of made.dirs.reverse()) await removeTree(dir);
  }

  /** Unmounts everything under dir, then removes it; refuses to delete through a mount it could not undo. */
  async function removeTree(dir: string): Promise<void> {
    // The mount table is read once: with thousands of pods it holds thousands of mounts, and
    // reading it again after each pod's unmounts was a third of the removal. What was unmounted
    // is checked on its own instead (a mount stacked under it shows as another device).
    const mounts = await mountsUnder(dir);
    for (const m of mounts) await unmount(m.mountPoint);
    const left: string[] = [];
    for (const point of new Set(mounts.map(m => m.mountPoint))) if (await isLikelyMountPoint(point)) left.push(point);
    if (left.length) throw new Error(`still mounted after umount: ${left.join(', ')}`);
    await rm(dir, { recursive: true, force: true });
  }

  async function ensureTmpfs(dir: string, bytes: number): Promise<boolean> {
    if (!canMount || await isTmpfsMountPoint(dir)) return false;
    await mountTmpfs(dir, bytes);
    return true;
  }

  /** Makes one volume ready (or refreshes its content); returns its host path and whether anything changed. */
  async function setUpVolume(pod: V1Pod, volume: V1Volume, plugin: VolumePlugin, wasReady: boolean, made: Made): Promise<{ path: string; changed: boolean }> {
    const uid = pod.metadata?.uid ?? '';
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    const applyOwnership = fsGroup !== undefined && canMount;
    const ownership = async (dir: string, readOnly: boolean) => {
      if (!applyOwnership) return;
      if (pod.spec?.securityContext?.fsGroupChangePolicy === 'OnRootMismatch' && await ownershipSettled(dir, fsGroup, readOnly)) return;
      await setVolumeOwnership(dir, fsGroup, readOnly);
    };

    switch (plugin) {
      case 'host-path': {
        await prepareHostPath(volume.hostPath!.path, volume.hostPath!.type);
        return { path: volume.hostPath!.path, changed: !wasReady };
      }
      case 'persistent-volume-claim': {
        const claimed = await claimedHostPath(sources, pod.metadata?.namespace ?? 'default', volume.persistentVolumeClaim!);
        if (claimed.type === 'local') {
          if (!(await exists(claimed.path))) throw new VolumeContentError(`local volume path "${claimed.path}" does not exist`);
        } else await prepareHostPath(claimed.path, claimed.type);
        return { path: claimed.path, changed: !wasReady };
      }
      case 'empty-dir': {
        const dir = volumeDir(opts.rootDir, uid, plugin, volume.name);
        if (wasReady && await exists(dir)) return { path: dir, changed: false };
        await makeDir(dir, uid, made);
        await chmod(dir, EMPTY_DIR_MODE);
        if (volume.emptyDir?.medium === 'Memory') await ensureTmpfs(dir, memoryVolumeBytes(pod, volume.emptyDir.sizeLimit));
        await ownership(dir, false);
        return { path: dir, changed: true };
      }
      default: {
        // Content first: a missing object fails before any directory exists.
        const payload = await contentPayload(pod, volume, plugin, fsGroup !== undefined);
        const dir = volumeDir(opts.rootDir, uid, plugin, volume.name);
        const digest = payloadDigest(payload, applyOwnership);
        if (wasReady && writtenDigests.get(uid)?.get(volume.name) === digest) return { path: dir, changed: false };
        await makeDir(dir, uid, made);
        let changed = false;
        if (!wasReady) await chmod(dir, EMPTY_DIR_MODE);
        if (ON_TMPFS.has(plugin) && !wasReady) changed = await ensureTmpfs(dir, memoryVolumeBytes(pod, undefined));
        const wrote = await writeAtomically(dir, payload, {
          now: new Date(clock()),
          finalMode: applyOwnership ? m => ownershipMode(m, false, true) : undefined,
          setPermissions: applyOwnership ? () => setVolumeOwnership(dir, fsGroup, true) : undefined,
        });
        let digests = writtenDigests.get(uid);
        if (!digests) writtenDigests.set(uid, (digests = new Map()));
        digests.set(volume.name, digest);
        return { path: dir, changed: changed || wrote };
      }
    }
  }

  function contentPayload(pod: V1Pod, volume: V1Volume, plugin: VolumePlugin, fsGroupSet: boolean): Promise<Payload> | Payload {
    const ctx: ContentContext = { pod, sources, tokens };
    if (plugin === 'configmap') return configMapPayload(ctx, volume.configMap!);
    if (plugin === 'secret') return secretPayload(ctx, volume.secret!);
    if (plugin === 'downward-api') return downwardApiVolumePayload(ctx, volume.downwardAPI!);
    return projectedPayload(ctx, volume.projected!, fsGroupSet);
  }

  async function setUp(pod: V1Pod): Promise<ReadyVolumes> {
    const uid = pod.metadata?.uid ?? '';
    if (!uid) throw new VolumeSetupFailure('', '', 'pod has no metadata.uid');
    const podFields = { ...podLogFields(podRefOf(pod)), uid };
    // Watch before reading, so that an object that appears after a failed read still wakes the pod.
    watches?.use(uid, referencedObjects(pod));
    const before = ready.get(uid) ?? new Map<string, ReadyVolume>();
    const after = new Map(before);
    const paths = new Map<string, string>();
    const refreshErrors: VolumeSetupFailure[] = [];
    const made: Made = { dirs: [] };

    for (const volume of pod.spec?.volumes ?? []) {
      const which = volumePlugin(volume);
      const plugin = 'plugin' in which ? which.plugin : which.unsupported;
      const fields = { ...podFields, volume: volume.name, plugin };
      const started = clock();
      const previous = before.get(volume.name) ?? ('plugin' in which ? await writtenBefore(uid, volume.name, which.plugin) : undefined);
      try {
        if ('unsupported' in which) throw new VolumeSetupFailure(volume.name, plugin, `${plugin} volumes are not supported by mini-kubelet`);
        const { path, changed } = await setUpVolume(pod, volume, which.plugin, previous !== undefined, made);
        paths.set(volume.name, path);
        after.set(volume.name, { plugin: which.plugin, path });
        if (changed) logger.info({ ...fields, path, ms: clock() - started }, previous ? 'volume content updated' : 'volume ready');
      } catch (err) {
        const failure = setUpFailed(volume.name, plugin, err);
        if (previous && CONTENT.has(previous.plugin)) {
          // A volume in use keeps its last content (kubelet: the pod keeps running, FailedMount is reported).
          logger.warn({ ...fields, err: failure.message }, 'volume refresh failed; keeping the previous content');
          paths.set(volume.name, previous.path);
          refreshErrors.push(failure);
          continue;
        }
        logger.warn({ ...fields, err: failure.message, ms: clock() - started }, 'volume setup failed');
        try {
          await undo(made);
        } catch (undoErr) {
          logger.error({ ...podFields, err: (undoErr as Error).message }, 'could not remove what the failed setup made');
        }
        throw failure;
      }
    }
    ready.set(uid, after);
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    return { uid, paths, supplementalGroups: fsGroup !== undefined ? [fsGroup] : [], ...(refreshErrors.length ? { refreshErrors } : {}) };
  }

  /** A content volume written before the agent restarted counts as ready: it keeps its content if a refresh fails. */
  async function writtenBefore(uid: string, name: string, plugin: VolumePlugin): Promise<ReadyVolume | undefined> {
    if (!CONTENT.has(plugin)) return undefined;
    const path = volumeDir(opts.rootDir, uid, plugin, name);
    return await exists(join(path, DATA_DIR)) ? { plugin, path } : undefined;
  }

  async function removePodVolumes(uid: string): Promise<boolean> {
    tokens?.forget(uid);
    watches?.release(uid);
    ready.delete(uid);
    writtenDigests.delete(uid);
    const dir = podVolumesDir(opts.rootDir, uid);
    const had = await exists(dir);
    await removeTree(dir);
    // The pod directory goes too when nothing else (containers/, from the runtime manager) is left in it.
    await rmdir(podDir(opts.rootDir, uid)).catch(() => undefined);
    return had;
  }

  return {
    refreshes: refreshes.asObservable(),
    setUp: pod => serialized(pod.metadata?.uid ?? '', () => setUp(pod)),
    mountsFor: (pod: V1Pod, container: V1Container, volumes: ReadyVolumes, env) => containerMounts(pod, container, volumes, env),
    async tearDown(uid) {
      await serialized(uid, async () => {
        const started = clock();
        if (await removePodVolumes(uid)) logger.info({ uid, ms: clock() - started }, 'pod volumes removed');
      });
    },
    async removeOrphans(knownUids) {
      const entries = await readdir(join(opts.rootDir, 'pods'), { withFileTypes: true }).catch(() => []);
      const removed: string[] = [];
      for (const entry of entries) {
        const uid = entry.name;
        if (!entry.isDirectory() || knownUids.has(uid)) continue;
        await serialized(uid, () => removePodVolumes(uid));
        removed.push(uid);
      }
      if (removed.length) logger.info({ uids: removed }, 'removed volumes of orphaned pods');
      return removed;
    },
    async stop() {
      tokens?.stop();
      watches?.stop();
      refreshes.complete();
    },
  };
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}
