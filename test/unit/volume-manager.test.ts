// The volume manager without mounts (canMount: false, as `npm start` as a normal user): the
// files it makes, refreshes from watches and token timers, failures that leave nothing behind.
// The same paths with real tmpfs and ownership run as root in test/e2e/volume-manager.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { pino } from 'pino';
import type { V1ConfigMap, V1Pod, V1Volume } from '@kubernetes/client-node';
import { createVolumeManager } from '../../src/volume/volume-manager.ts';
import { VolumeSetupError, type VolumeSources } from '../../src/volume/pod-volumes.ts';

interface FakeApi extends VolumeSources {
  configMaps: Map<string, V1ConfigMap>;
  change(name: string): void;
  tokensIssued: number;
}

function fakeApi(tokenSeconds = 3600): FakeApi {
  const watchers = new Map<string, Set<() => void>>();
  const api: FakeApi = {
    configMaps: new Map(),
    tokensIssued: 0,
    getConfigMap: async (_ns, name) => api.configMaps.get(name),
    getSecret: async () => undefined,
    getPersistentVolumeClaim: async () => undefined,
    getPersistentVolume: async () => undefined,
    requestServiceAccountToken: async () => {
      api.tokensIssued++;
      return { token: `token-${api.tokensIssued}`, expirationTimestamp: new Date(Date.now() + tokenSeconds * 1000) };
    },
    watchObject: (_kind, _ns, name, onChange) => {
      const set = watchers.get(name) ?? new Set();
      set.add(onChange);
      watchers.set(name, set);
      return () => set.delete(onChange);
    },
    change: name => watchers.get(name)?.forEach(f => f()),
  };
  return api;
}

async function setup(t: { after: (fn: () => Promise<void>) => void }, sources: VolumeSources | undefined) {
  const rootDir = await mkdtemp(join(tmpdir(), 'mk-volumes-'));
  const manager = createVolumeManager({ rootDir, sources, nodeName: 'n', logger: pino({ level: 'silent' }), canMount: false });
  t.after(async () => {
    await manager.stop();
    await rm(rootDir, { recursive: true, force: true });
  });
  return { rootDir, manager };
}

const podDirs = (rootDir: string) => readdir(join(rootDir, 'pods')).catch(() => [] as string[]);

const pod = (uid: string, volumes: V1Volume[], extra: Partial<V1Pod['metadata']> = {}): V1Pod => ({
  metadata: { name: 'web', namespace: 'ns', uid, labels: { app: 'web' }, ...extra },
  spec: { containers: [{ name: 'c', image: 'busybox' }], volumes },
});

test('standalone: emptyDir, hostPath and downwardAPI are made where the kubelet keeps them', async (t) => {
  const { rootDir, manager } = await setup(t, undefined);
  const host = join(rootDir, 'host-dir');
  const ready = await manager.setUp(pod('u1', [
    { name: 'cache', emptyDir: {} },
    { name: 'host', hostPath: { path: host, type: 'DirectoryOrCreate' } },
    { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
  ]));
  const vols = join(rootDir, 'pods/u1/volumes');
  assert.equal(ready.paths.get('cache'), join(vols, 'kubernetes.io~empty-dir/cache'));
  assert.equal(ready.paths.get('host'), host);
  assert.equal((await stat(host)).mode & 0o777, 0o755);
  assert.equal((await stat(ready.paths.get('cache')!)).mode & 0o777, 0o777);
  assert.equal(await readFile(join(vols, 'kubernetes.io~downward-api/info/labels'), 'utf8'), 'app="web"');
  assert.deepEqual(ready.supplementalGroups, []);
});

test('standalone: a configMap volume fails with FailedMount naming why, and leaves no directory', async (t) => {
  const { rootDir, manager } = await setup(t, undefined);
  await assert.rejects(manager.setUp(pod('u2', [{ name: 'cache', emptyDir: {} }, { name: 'cfg', configMap: { name: 'x' } }])), (err: unknown) =>
    err instanceof VolumeSetupError && err.reason === 'FailedMount' && /^MountVolume.SetUp failed for volume "cfg" : configMap volumes need an API server/.test(err.message));
  assert.deepEqual(await podDirs(rootDir), [], 'the emptyDir made before the failure is gone with the pod dir');
});

test('unsupported volume types are refused by name, never skipped', async (t) => {
  const { rootDir, manager } = await setup(t, fakeApi());
  for (const [field, source] of [['csi', { driver: 'x' }], ['iscsi', { targetPortal: 'p', iqn: 'i', lun: 0 }], ['ephemeral', {}], ['image', { reference: 'r' }], ['gitRepo', { repository: 'r' }]] as const) {
    await assert.rejects(manager.setUp(pod('u3', [{ name: 'ok', emptyDir: {} }, { name: 'v', [field]: source }])),
      (err: unknown) => err instanceof VolumeSetupError && err.message === `MountVolume.SetUp failed for volume "v" : ${field} volumes are not supported by mini-kubelet`);
  }
  assert.deepEqual(await podDirs(rootDir), []);
});

test('a configMap change reaches the files through the watch; a later failure keeps the old content', async (t) => {
  const api = fakeApi();
  const { rootDir, manager } = await setup(t, api);
  const spec = pod('u4', [{ name: 'cfg', configMap: { name: 'app' } }]);
  await assert.rejects(manager.setUp(spec), /configmap "app" not found/);
  assert.deepEqual(await podDirs(rootDir), []);

  // The missing object is watched already: its creation wakes the pod.
  const woken = firstValueFrom(manager.refreshes.pipe(filter(uid => uid === 'u4')));
  api.configMaps.set('app', { data: { k: 'v1' } });
  api.change('app');
  await woken;
  const ready = await manager.setUp(spec);
  const dir = ready.paths.get('cfg')!;
  assert.equal(await readFile(join(dir, 'k'), 'utf8'), 'v1');
  const first = await readlink(join(dir, '..data'));

  api.configMaps.set('app', { data: { k: 'v2' } });
  const again = firstValueFrom(manager.refreshes.pipe(filter(uid => uid === 'u4')));
  api.change('app');
  await again;
  await manager.setUp(spec);
  assert.equal(await readFile(join(dir, 'k'), 'utf8'), 'v2');
  assert.notEqual(await readlink(join(dir, '..data')), first);

  api.configMaps.delete('app');
  api.change('app'); // the watch reports the deletion, as the API server's does
  const kept = await manager.setUp(spec);
  assert.equal(await readFile(join(dir, 'k'), 'utf8'), 'v2');
  assert.match(kept.refreshErrors?.[0]?.message ?? '', /configmap "app" not found/);

  await manager.tearDown('u4');
  assert.deepEqual(await podDirs(rootDir), []);
});

test('downward API labels follow the pod; setUp on an unchanged pod rewrites nothing', async (t) => {
  const { manager } = await setup(t, undefined);
  const volumes = [{ name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }];
  const ready = await manager.setUp(pod('u5', volumes));
  const dir = ready.paths.get('info')!;
  const first = await readlink(join(dir, '..data'));
  await manager.setUp(pod('u5', volumes));
  assert.equal(await readlink(join(dir, '..data')), first);
  await manager.setUp(pod('u5', volumes, { labels: { app: 'web', tier: 'front' } }));
  assert.equal(await readFile(join(dir, 'labels'), 'utf8'), 'app="web"\ntier="front"');
});

test('a sync whose volume content is unchanged touches no file; a change is written', async (t) => {
  const api = fakeApi();
  const { manager } = await setup(t, api);
  api.configMaps.set('app', { data: { k: 'v1' } });
  const spec = pod('u9', [{ name: 'cfg', configMap: { name: 'app' } }]);
  const dir = (await manager.setUp(spec)).paths.get('cfg')!;
  // The resync of an unchanged pod does not even read the volume: the written set is remembered.
  await rm(join(dir, '..data'));
  await manager.setUp(spec);
  await assert.rejects(readlink(join(dir, '..data')), { code: 'ENOENT' });
  api.configMaps.set('app', { data: { k: 'v2' } });
  api.change('app');
  await manager.setUp(spec);
  assert.equal(await readFile(join(dir, 'k'), 'utf8'), 'v2');
});

test('service-account token: requested bound to the pod, renewed when 80 % of its life has passed', async (t) => {
  const api = fakeApi(1);
  const requests: unknown[] = [];
  const inner = api.requestServiceAccountToken;
  api.requestServiceAccountToken = async (ns, sa, req) => {
    requests.push({ ns, sa, ...req });
    return inner(ns, sa, req);
  };
  const { manager } = await setup(t, api);
  const spec = pod('u6', [{ name: 'kube-api-access', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 1 } }] } }]);
  spec.spec!.serviceAccountName = 'robot';
  const due = firstValueFrom(manager.refreshes.pipe(filter(uid => uid === 'u6')));
  const ready = await manager.setUp(spec);
  const tokenFile = join(ready.paths.get('kube-api-access')!, 'token');
  assert.equal(await readFile(tokenFile, 'utf8'), 'token-1');
  assert.deepEqual(requests[0], { ns: 'ns', sa: 'robot', audiences: undefined, expirationSeconds: 1, podName: 'web', podUid: 'u6' });
  await manager.setUp(spec);
  assert.equal(api.tokensIssued, 1, 'a fresh token is reused');
  await due;
  await manager.setUp(spec);
  assert.equal(await readFile(tokenFile, 'utf8'), 'token-2');
});

test('removeOrphans removes the volumes of pods no source knows, and keeps the known', async (t) => {
  const { rootDir, manager } = await setup(t, undefined);
  await manager.setUp(pod('keep', [{ name: 'a', emptyDir: {} }]));
  await manager.setUp(pod('gone', [{ name: 'a', emptyDir: {} }]));
  assert.deepEqual(await manager.removeOrphans(new Set(['keep'])), ['gone']);
  assert.deepEqual(await podDirs(rootDir), ['keep']);
});
