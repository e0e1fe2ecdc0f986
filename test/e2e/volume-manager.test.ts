// The volume room as root, on the real filesystem: tmpfs mounts, ownership under fsGroup, modes,
// atomic updates, subPath refusals, failures and teardown that leave no mount and no directory.
// No containerd here: the files are checked on the host (the agent e2e tests check them from
// inside containers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, readlink, realpath, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { V1ConfigMap, V1Pod, V1Secret, V1Volume } from '@kubernetes/client-node';
import { requireE2e } from '../helpers/e2e.ts';
import { createVolumeManager } from '../../src/volume/volume-manager.ts';
import { ContainerMountError, VolumeSetupError, type PodVolumeManager, type VolumeSources } from '../../src/volume/pod-volumes.ts';

const run = promisify(execFile);
const b64 = (s: string) => Buffer.from(s).toString('base64');

interface World {
  rootDir: string;
  manager: PodVolumeManager;
  configMaps: Map<string, V1ConfigMap>;
  secrets: Map<string, V1Secret>;
}

async function mountsUnder(dir: string): Promise<string[]> {
  const real = await realpath(dir).catch(() => dir);
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').map(l => l.split(' ')[4] ?? '').filter(p => p === real || p.startsWith(`${real}/`));
}

async function mountLine(dir: string): Promise<string | undefined> {
  const real = await realpath(dir);
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find(l => l.split(' ')[4] === real);
}

/** Objects as the API server keeps them: every write is reported to the object's watchers. */
class WatchedObjects<V> extends Map<string, V> {
  readonly watchers = new Map<string, Set<() => void>>();
  override set(name: string, value: V): this {
    super.set(name, value);
    for (const notify of this.watchers?.get(name) ?? []) notify();
    return this;
  }
  override delete(name: string): boolean {
    const had = super.delete(name);
    for (const notify of this.watchers.get(name) ?? []) notify();
    return had;
  }
  watch(name: string, onChange: () => void): () => void {
    const set = this.watchers.get(name) ?? new Set();
    set.add(onChange);
    this.watchers.set(name, set);
    return () => set.delete(onChange);
  }
}

async function makeWorld(t: { after: (fn: () => Promise<void>) => void }): Promise<World> {
  const rootDir = await mkdtemp(join(tmpdir(), 'mk-volume-e2e-'));
  const configMaps = new WatchedObjects<V1ConfigMap>();
  const secrets = new WatchedObjects<V1Secret>();
  let issued = 0;
  const sources: VolumeSources = {
    getConfigMap: async (_ns, name) => configMaps.get(name),
    getSecret: async (_ns, name) => secrets.get(name),
    getPersistentVolumeClaim: async () => undefined,
    getPersistentVolume: async () => undefined,
    requestServiceAccountToken: async () => ({ token: `jwt-${++issued}`, expirationTimestamp: new Date(Date.now() + 3600_000) }),
    watchObject: (kind, _ns, name, onChange) => (kind === 'ConfigMap' ? configMaps : secrets).watch(name, onChange),
  };
  const manager = createVolumeManager({ rootDir, sources, nodeName: 'node-e2e', logger: pino({ level: 'silent' }), canMount: true });
  t.after(async () => {
    await manager.stop();
    for (const m of (await mountsUnder(rootDir)).reverse()) await run('umount', ['-l', m]).catch(() => undefined);
    await rm(rootDir, { recursive: true, force: true });
  });
  return { rootDir, manager, configMaps, secrets };
}

function pod(uid: string, volumes: V1Volume[], fsGroup?: number): V1Pod {
  return {
    metadata: { name: `pod-${uid}`, namespace: 'ns', uid, labels: { app: 'web' }, annotations: { note: 'a "b"' } },
    spec: { securityContext: fsGroup !== undefined ? { fsGroup } : {}, containers: [{ name: 'c', image: 'busybox', resources: { limits: { memory: '64Mi' } } }], volumes },
  };
}

const mode = async (p: string) => (await stat(p)).mode & 0o7777;

test('content, modes and fsGroup ownership of every content type; tmpfs under secret, projected and Memory emptyDir', async (t) => {
  if (!requireE2e(t)) return;
  const w = await makeWorld(t);
  w.configMaps.set('app', { data: { 'app.conf': 'debug=true', other: 'x' } });
  w.configMaps.set('kube-root-ca.crt', { data: { 'ca.crt': 'CA' } });
  w.secrets.set('creds', { data: { password: b64('s3cret') } });
  const spec = pod('p1', [
    { name: 'cache', emptyDir: {} },
    { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    { name: 'cfg', configMap: { name: 'app', items: [{ key: 'app.conf', path: 'conf/app.conf', mode: 0o400 }] } },
    { name: 'sec', secret: { secretName: 'creds', defaultMode: 0o400 } },
    { name: 'info', downwardAPI: { items: [{ path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }, { path: 'mem_mb', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }] } },
    { name: 'kube-api-access', projected: { sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
    ] } },
  ], 2000);
  const ready = await w.manager.setUp(spec);
  assert.deepEqual(ready.supplementalGroups, [2000]);
  const p = (name: string) => ready.paths.get(name)!;
  assert.equal(p('cfg'), join(w.rootDir, 'pods/p1/volumes/kubernetes.io~configmap/cfg'));

  // Content and modes (fsGroup adds g+r on the read-only types, g+rw on emptyDir).
  assert.equal(await readFile(join(p('cfg'), 'conf/app.conf'), 'utf8'), 'debug=true');
  await assert.rejects(lstat(join(p('cfg'), 'other')), 'items limit the keys');
  assert.equal(await mode(join(p('cfg'), 'conf/app.conf')), 0o440);
  assert.equal(await readFile(join(p('sec'), 'password'), 'utf8'), 's3cret');
  assert.equal(await mode(join(p('sec'), 'password')), 0o440);
  assert.equal(await readFile(join(p('info'), 'annotations'), 'utf8'), 'note="a \\"b\\""');
  assert.equal(await readFile(join(p('info'), 'mem_mb'), 'utf8'), '64');
  assert.equal(await readFile(join(p('kube-api-access'), 'token'), 'utf8'), 'jwt-1');
  assert.equal(await mode(join(p('kube-api-access'), 'token')), 0o640, 'token 0600 + fsGroup g+r');
  assert.equal(await readFile(join(p('kube-api-access'), 'ca.crt'), 'utf8'), 'CA');
  assert.equal(await mode(join(p('kube-api-access'), 'namespace')), 0o644);

  // Ownership: group 2000 everywhere, setgid on directories.
  for (const name of ['cache', 'cfg', 'sec', 'info', 'kube-api-access']) {
    const st = await stat(p(name));
    assert.equal(st.gid, 2000, `${name} dir group`);
    assert.equal(st.mode & 0o2000, 0o2000, `${name} dir setgid`);
  }
  assert.equal((await stat(join(p('sec'), 'password'))).gid, 2000);
  assert.equal((await stat(join(p('cfg'), 'conf'))).gid, 2000);
  assert.equal(await mode(p('cache')), 0o2777);
  const { stdout } = await run('ls', ['-ln', p('sec') + '/']);
  assert.match(stdout, /password -> \.\.data\/password/, 'user-visible names are links through ..data');

  // tmpfs where the kubelet puts it, sized; plain disk for the rest.
  for (const name of ['sec', 'kube-api-access', 'mem']) assert.match((await mountLine(p(name))) ?? '', / - tmpfs tmpfs /, `${name} on tmpfs`);
  assert.match((await mountLine(p('mem')))!, /size=1024k/);
  assert.match((await mountLine(p('sec')))!, /size=65536k/, 'secret tmpfs sized to the pod memory limit');
  for (const name of ['cache', 'cfg', 'info']) assert.equal(await mountLine(p(name)), undefined, `${name} not a mount`);

  // Idempotent: a second setUp mounts nothing more and rewrites nothing.
  const links = await Promise.all(['cfg', 'sec', 'kube-api-access'].map(n => readlink(join(p(n), '..data'))));
  const mountCount = (await mountsUnder(w.rootDir)).length;
  await w.manager.setUp(spec);
  assert.deepEqual(await Promise.all(['cfg', 'sec', 'kube-api-access'].map(n => readlink(join(p(n), '..data')))), links);
  assert.equal((await mountsUnder(w.rootDir)).length, mountCount);

  await w.manager.tearDown('p1');
  assert.deepEqual(await mountsUnder(w.rootDir), []);
  await assert.rejects(lstat(join(w.rootDir, 'pods/p1')));
});

test('an update swaps ..data atomically and the old timestamped dir goes; a subPath pins the file it resolved', async (t) => {
  if (!requireE2e(t)) return;
  const w = await makeWorld(t);
  w.secrets.set('creds', { data: { password: b64('one') } });
  const spec = pod('p2', [{ name: 'sec', secret: { secretName: 'creds' } }]);
  const ready = await w.manager.setUp(spec);
  const dir = ready.paths.get('sec')!;
  const first = await readlink(join(dir, '..data'));
  const [pinned] = await w.manager.mountsFor(spec, { name: 'c', volumeMounts: [{ name: 'sec', mountPath: '/etc/password', subPath: 'password' }] }, ready, []);
  assert.equal(pinned!.hostPath, join(await realpath(dir), first, 'password'), 'subPath resolves through ..data to the file itself');

  const again = await w.manager.setUp(spec);
  assert.equal(await readlink(join(dir, '..data')), first, 'unchanged content: no new directory');
  assert.equal(again.paths.get('sec'), dir);

  w.secrets.set('creds', { data: { password: b64('two'), extra: b64('e') } });
  await w.manager.setUp(spec);
  const second = await readlink(join(dir, '..data'));
  assert.notEqual(second, first);
  assert.equal(await readFile(join(dir, 'password'), 'utf8'), 'two');
  assert.deepEqual((await readdir(dir)).sort(), [second, '..data', 'extra', 'password'].sort(), 'old timestamped dir and ..data_tmp gone');
  await w.manager.tearDown('p2');
  assert.deepEqual(await mountsUnder(w.rootDir), []);
});

test('subPath: made in emptyDir, expanded from env; `..`, absolute and escaping symlinks refused', async (t) => {
  if (!requireE2e(t)) return;
  const w = await makeWorld(t);
  const spec = pod('p3', [{ name: 'cache', emptyDir: {} }], 3000);
  const ready = await w.manager.setUp(spec);
  const dir = ready.paths.get('cache')!;
  const mounts = await w.manager.mountsFor(spec, { name: 'c', volumeMounts: [{ name: 'cache', mountPath: '/logs', subPathExpr: 'logs/$(POD_NAME)' }] }, ready, [{ key: 'POD_NAME', value: 'pod-p3' }]);
  assert.equal(mounts[0]!.hostPath, join(await realpath(dir), 'logs/pod-p3'));
  assert.equal(await mode(mounts[0]!.hostPath), 0o2777, 'made with the volume\'s mode');

  const refused = async (vm: { subPath?: string; subPathExpr?: string }, env: Array<{ key: string; value: string }>, message: RegExp) =>
    assert.rejects(w.manager.mountsFor(spec, { name: 'c', volumeMounts: [{ name: 'cache', mountPath: '/x', ...vm }] }, ready, env),
      (err: unknown) => err instanceof ContainerMountError && err.reason === 'CreateContainerConfigError' && message.test(err.message));
  await refused({ subPathExpr: '$(P)' }, [{ key: 'P', value: '../../etc' }], /must not contain '\.\.'/);
  await refused({ subPathExpr: '$(P)' }, [{ key: 'P', value: '/etc' }], /must not be an absolute path/);
  await symlink('/etc', join(dir, 'escape'));
  await refused({ subPath: 'escape' }, [], /not within volume path/);
  await refused({ subPath: 'escape/newdir' }, [], /not within volume path/);
  await assert.rejects(lstat('/etc/newdir'), 'nothing was made outside the volume');
});

test('unsupported types and missing objects fail with FailedMount and leave no directory and no mount', async (t) => {
  if (!requireE2e(t)) return;
  const w = await makeWorld(t);
  w.secrets.set('creds', { data: { k: b64('v') } });
  const ok: V1Volume[] = [{ name: 'mem', emptyDir: { medium: 'Memory' } }, { name: 'sec', secret: { secretName: 'creds' } }];
  await assert.rejects(w.manager.setUp(pod('p4', [...ok, { name: 'cfg', configMap: { name: 'missing' } }])),
    (err: unknown) => err instanceof VolumeSetupError && err.message === 'MountVolume.SetUp failed for volume "cfg" : configmap "missing" not found');
  await assert.rejects(w.manager.setUp(pod('p4', [...ok, { name: 'n', nfs: { server: 'nfs', path: '/' } }])),
    (err: unknown) => err instanceof VolumeSetupError && /"n" : nfs volumes are not supported by mini-kubelet/.test(err.message));
  await assert.rejects(w.manager.setUp(pod('p4', [...ok, { name: 'h', hostPath: { path: join(w.rootDir, 'absent'), type: 'Directory' } }])),
    /hostPath type check failed: .*absent is not a directory/);
  assert.deepEqual(await mountsUnder(w.rootDir), []);
  assert.deepEqual(await readdir(join(w.rootDir, 'pods')), []);
});

test('tearDown and removeOrphans leave no mount and no directory; known pods are kept', async (t) => {
  if (!requireE2e(t)) return;
  const w = await makeWorld(t);
  w.secrets.set('creds', { data: { k: b64('v') } });
  const volumes: V1Volume[] = [{ name: 'mem', emptyDir: { medium: 'Memory' } }, { name: 'sec', secret: { secretName: 'creds' } }, { name: 'disk', emptyDir: {} }];
  for (const uid of ['a', 'b', 'c']) await w.manager.setUp(pod(uid, volumes));
  assert.equal((await mountsUnder(w.rootDir)).length, 6);

  await w.manager.tearDown('a');
  await w.manager.tearDown('a');
  assert.equal((await mountsUnder(join(w.rootDir, 'pods/a'))).length, 0);
  await assert.rejects(lstat(join(w.rootDir, 'pods/a')));

  // As after an agent restart: a fresh manager knows only pod c.
  const restarted = createVolumeManager({ rootDir: w.rootDir, sources: undefined, nodeName: 'node-e2e', logger: pino({ level: 'silent' }), canMount: true });
  assert.deepEqual(await restarted.removeOrphans(new Set(['c'])), ['b']);
  await restarted.stop();
  assert.deepEqual(await readdir(join(w.rootDir, 'pods')), ['c']);
  const left = await mountsUnder(w.rootDir);
  assert.equal(left.length, 2);
  assert.ok(left.every(m => m.includes('/pods/c/')));
});
