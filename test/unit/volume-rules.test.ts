// The volume room's decisions as tables: plugin of a volume, hostPath type checks, fsGroup
// mode bits, subPath rules, token renewal time, tmpfs size, mountinfo parsing, PVC states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { volumePlugin, volumeDir } from '../../src/volume/volume-layout.ts';
import { hostPathDecision } from '../../src/volume/host-path.ts';
import { ownershipMode } from '../../src/volume/ownership.ts';
import { effectiveSubPath, resolveSubPath } from '../../src/volume/sub-path.ts';
import { tokenRefreshAt } from '../../src/volume/service-account-tokens.ts';
import { memoryVolumeBytes } from '../../src/volume/memory-medium.ts';
import { isTmpfsMountPoint, mountsUnderIn, parseMountInfo } from '../../src/volume/mount-table.ts';
import { claimedHostPath } from '../../src/volume/persistent-volume-claim.ts';
import { containerMounts } from '../../src/volume/container-mounts.ts';
import { ObjectWatches, referencedObjects } from '../../src/volume/object-watches.ts';
import { ContainerMountError, type VolumeSources } from '../../src/volume/pod-volumes.ts';

test('plugin of a volume: by its source field; no source is emptyDir; anything else is named', () => {
  assert.deepEqual(volumePlugin({ name: 'v', configMap: { name: 'c' } }), { plugin: 'configmap' });
  assert.deepEqual(volumePlugin({ name: 'v', downwardAPI: {} }), { plugin: 'downward-api' });
  assert.deepEqual(volumePlugin({ name: 'v' }), { plugin: 'empty-dir' });
  assert.deepEqual(volumePlugin({ name: 'v', csi: { driver: 'd' } }), { unsupported: 'csi' });
  assert.deepEqual(volumePlugin({ name: 'v', nfs: { server: 's', path: '/' } }), { unsupported: 'nfs' });
  assert.equal(volumeDir('/var/lib/k', 'u', 'empty-dir', 'cache'), '/var/lib/k/pods/u/volumes/kubernetes.io~empty-dir/cache');
});

const hostPathCases: Array<[string | undefined, Parameters<typeof hostPathDecision>[2], ReturnType<typeof hostPathDecision>]> = [
  [undefined, undefined, { action: 'none' }],
  ['', 'file', { action: 'none' }],
  ['DirectoryOrCreate', undefined, { action: 'mkdir' }],
  ['DirectoryOrCreate', 'directory', { action: 'none' }],
  ['DirectoryOrCreate', 'file', { error: 'hostPath type check failed: /h is not a directory' }],
  ['Directory', undefined, { error: 'hostPath type check failed: /h is not a directory' }],
  ['FileOrCreate', undefined, { action: 'touch' }],
  ['FileOrCreate', 'directory', { error: 'hostPath type check failed: /h is not a file' }],
  ['File', 'socket', { action: 'none' }],
  ['File', undefined, { error: 'hostPath type check failed: /h is not a file' }],
  ['Socket', 'file', { error: 'hostPath type check failed: /h is not a socket file' }],
  ['CharDevice', 'char', { action: 'none' }],
  ['CharDevice', 'block', { error: 'hostPath type check failed: /h is not a character device' }],
  ['BlockDevice', 'char', { error: 'hostPath type check failed: /h is not a block device' }],
  ['Weird', 'file', { error: 'Weird is an invalid volume type' }],
];
for (const [type, kind, expected] of hostPathCases) {
  test(`hostPath type ${JSON.stringify(type)} on ${kind ?? 'nothing'}`, () => assert.deepEqual(hostPathDecision(type, '/h', kind), expected));
}

test('fsGroup mode bits: files g+rw (g+r when read-only), dirs also setgid and g+x', () => {
  assert.equal(ownershipMode(0o644, false, false), 0o664);
  assert.equal(ownershipMode(0o600, false, true), 0o640);
  assert.equal(ownershipMode(0o400, false, true), 0o440);
  assert.equal(ownershipMode(0o755, true, true), 0o2755);
  assert.equal(ownershipMode(0o700, true, false), 0o2770);
  assert.equal(ownershipMode(0o40777, true, false), 0o2777, 'the file type bits are dropped');
});

const env = [{ key: 'POD', value: 'web-1' }, { key: 'EMPTY', value: '' }, { key: 'UP', value: '..' }, { key: 'ABS', value: '/etc' }];
const subPaths: Array<[object, string | RegExp]> = [
  [{ subPath: 'a/b' }, 'a/b'],
  [{}, ''],
  [{ subPathExpr: 'logs/$(POD)' }, 'logs/web-1'],
  [{ subPathExpr: '$$(POD)' }, '$(POD)'],
  [{ subPathExpr: '$(NOPE)/$(EMPTY)' }, /^missing value for EMPTY, NOPE$/],
  [{ subPathExpr: '$(UP)/x' }, /unable to provision SubPath `\.\.\/x`: must not contain '\.\.'/],
  [{ subPathExpr: '$(ABS)' }, /error SubPath `\/etc` must not be an absolute path/],
  [{ subPath: 'a/../../b' }, /must not contain '\.\.'/],
  [{ subPath: 'a..b' }, 'a..b'],
];
for (const [mount, expected] of subPaths) {
  test(`subPath ${JSON.stringify(mount)}`, () => {
    const m = { name: 'v', mountPath: '/m', ...mount };
    if (typeof expected === 'string') assert.equal(effectiveSubPath(m, env), expected);
    else assert.throws(() => effectiveSubPath(m, env), (err: unknown) => err instanceof ContainerMountError && expected.test(err.message));
  });
}

test('subPath on disk: made with the volume\'s mode when missing; symlinks inside are followed, escapes refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mk-subpath-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const vol = join(dir, 'vol');
  await mkdir(vol);
  const { chmod } = await import('node:fs/promises');
  await chmod(vol, 0o777);
  const made = await resolveSubPath(vol, 'a/b');
  assert.equal(made, join(vol, 'a/b'));
  assert.equal((await stat(made)).mode & 0o777, 0o777);
  await writeFile(join(vol, 'real'), 'x');
  await symlink('real', join(vol, 'link'));
  assert.equal(await resolveSubPath(vol, 'link'), join(vol, 'real'), 'a configMap key resolves to the file itself');
  await symlink('/etc', join(vol, 'out'));
  await assert.rejects(resolveSubPath(vol, 'out'), (err: unknown) => err instanceof ContainerMountError && /not within volume path/.test(err.message));
  await assert.rejects(resolveSubPath(vol, 'out/x'), ContainerMountError, 'no directory is made through an escaping link');
  await symlink('../..', join(vol, 'up'));
  await assert.rejects(resolveSubPath(vol, 'up'), ContainerMountError);
});

test('container mounts: propagation, readOnly, unknown volume, Bidirectional only when privileged', async () => {
  const pod: V1Pod = { spec: { containers: [], volumes: [{ name: 'a', emptyDir: {} }, { name: 'c', persistentVolumeClaim: { claimName: 'x', readOnly: true } }] } };
  const volumes = { uid: 'u', paths: new Map([['a', '/v/a'], ['c', '/data']]), supplementalGroups: [] };
  const mounts = await containerMounts(pod, { name: 'm', volumeMounts: [
    { name: 'a', mountPath: '/a' }, { name: 'a', mountPath: '/b', readOnly: true, mountPropagation: 'HostToContainer' }, { name: 'c', mountPath: '/c' },
  ] }, volumes, []);
  assert.deepEqual(mounts, [
    { containerPath: '/a', hostPath: '/v/a', readOnly: false, propagation: 'None' },
    { containerPath: '/b', hostPath: '/v/a', readOnly: true, propagation: 'HostToContainer' },
    { containerPath: '/c', hostPath: '/data', readOnly: true, propagation: 'None' },
  ]);
  await assert.rejects(containerMounts(pod, { name: 'm', volumeMounts: [{ name: 'zz', mountPath: '/z' }] }, volumes, []), /cannot find volume "zz" to mount into container "m"/);
  await assert.rejects(containerMounts(pod, { name: 'm', volumeMounts: [{ name: 'a', mountPath: '/z', mountPropagation: 'Bidirectional' }] }, volumes, []), /only to privileged containers/);
  const priv = await containerMounts(pod, { name: 'm', securityContext: { privileged: true }, volumeMounts: [{ name: 'a', mountPath: '/z', mountPropagation: 'Bidirectional' }] }, volumes, []);
  assert.equal(priv[0]!.propagation, 'Bidirectional');
  await assert.rejects(containerMounts(pod, { name: 'm', volumeMounts: [{ name: 'a', mountPath: '/r', readOnly: true, recursiveReadOnly: 'Enabled' }] }, volumes, []),
    /requested recursive read-only mode, but it is not supported by the runtime/, 'never silently a plain read-only mount');
});

test('token renewal: at 80 % of the requested lifetime, or after 24 h', () => {
  const exp = 1_000_000_000;
  assert.equal(tokenRefreshAt(exp, 3600), exp - 720_000);
  assert.equal(tokenRefreshAt(exp, 600), exp - 120_000);
  assert.equal(tokenRefreshAt(exp, 7 * 24 * 3600), exp - 6 * 24 * 3600_000, 'a week-long token is renewed after a day');
});

test('memory volume size: pod memory limit, else the node\'s; sizeLimit when smaller', () => {
  const pod = (limits: string[]): V1Pod => ({ spec: { containers: limits.map((l, i) => ({ name: `c${i}`, resources: l ? { limits: { memory: l } } : {} })) } });
  assert.equal(memoryVolumeBytes(pod(['64Mi', '64Mi']), undefined, 8 << 30), 128 << 20);
  assert.equal(memoryVolumeBytes(pod(['']), undefined, 8 << 30), 8 << 30);
  assert.equal(memoryVolumeBytes(pod(['64Mi']), '1Mi', 8 << 30), 1 << 20);
  assert.equal(memoryVolumeBytes(pod(['64Mi']), '1Gi', 8 << 30), 64 << 20);
});

test('mountinfo: mount point unescaped, type after the separator', () => {
  const text = '36 35 98:0 / /mnt/a\\040b rw,noatime master:1 - tmpfs tmpfs rw,size=1024k\n37 35 98:0 / /proc rw - proc proc rw\n';
  assert.deepEqual(parseMountInfo(text), [{ mountPoint: '/mnt/a b', fsType: 'tmpfs' }, { mountPoint: '/proc', fsType: 'proc' }]);
});

test('mountinfo: the mounts at or under a directory, deepest first, from the lines that name it', () => {
  const text = [
    '36 35 0:40 / /r/pods/u1/volumes/kubernetes.io~projected/kube-api-access rw - tmpfs tmpfs rw',
    '37 35 0:41 / /r/pods/u1/volumes/kubernetes.io~secret/s rw - tmpfs tmpfs rw',
    '38 35 0:42 / /r/pods/u10/volumes/kubernetes.io~secret/s rw - tmpfs tmpfs rw',
    '39 35 0:43 / /r/pods/u1 rw - tmpfs tmpfs rw',
    '40 35 0:44 / /r/my\\040root/pods/u2/volumes/v rw - tmpfs tmpfs rw',
    '41 35 98:0 /r/pods/u1 /elsewhere rw - ext4 /dev/vda rw',
    '',
  ].join('\n');
  const table: Array<[dir: string, want: string[]]> = [
    ['/r/pods/u1', ['/r/pods/u1/volumes/kubernetes.io~projected/kube-api-access', '/r/pods/u1/volumes/kubernetes.io~secret/s', '/r/pods/u1']],
    // A sibling whose name starts the same is not under it; a mount whose root (field 4) names it is not either.
    ['/r/pods/u10', ['/r/pods/u10/volumes/kubernetes.io~secret/s']],
    ['/r/my root/pods/u2', ['/r/my root/pods/u2/volumes/v']],
    ['/r/pods/u3', []],
  ];
  for (const [dir, want] of table) assert.deepEqual(mountsUnderIn(text, dir).map((m) => m.mountPoint), want, dir);
});

test('a tmpfs mount point is told from a plain directory by its device and statfs type', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tmpfs-check-'));
  try {
    assert.equal(await isTmpfsMountPoint(dir), false, 'a new directory');
    assert.equal(await isTmpfsMountPoint(join(dir, 'absent')), false, 'a path that does not exist');
    assert.equal(await isTmpfsMountPoint('/proc'), false, 'a mount point that is not tmpfs');
    assert.equal(await isTmpfsMountPoint('/'), false, 'the root');
    const shm = await stat('/dev/shm').then(() => true, () => false);
    if (shm) assert.equal(await isTmpfsMountPoint('/dev/shm'), parseMountInfo(await import('node:fs').then((fs) => fs.readFileSync('/proc/self/mountinfo', 'utf8'))).some((m) => m.mountPoint === '/dev/shm' && m.fsType === 'tmpfs'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function sources(pvcs: Record<string, V1PersistentVolumeClaim>, pvs: Record<string, V1PersistentVolume>): VolumeSources {
  return {
    getConfigMap: async () => undefined, getSecret: async () => undefined,
    getPersistentVolumeClaim: async (_ns, n) => pvcs[n], getPersistentVolume: async n => pvs[n],
    requestServiceAccountToken: async () => { throw new Error('unused'); }, watchObject: () => () => {},
  };
}
const bound = (pv: string): V1PersistentVolumeClaim => ({ metadata: { name: 'c', uid: 'cu' }, spec: { volumeName: pv }, status: { phase: 'Bound' } });

test('PVC: bound to hostPath or local → its path; missing, Pending, other PV types → errors naming the claim', async () => {
  const s = sources(
    { c: bound('hp'), l: { ...bound('lo'), metadata: { name: 'l' } }, p: { spec: {}, status: { phase: 'Pending' } }, n: { ...bound('nfs'), metadata: { name: 'n' } }, o: { ...bound('hp'), metadata: { name: 'o' } } },
    {
      hp: { spec: { hostPath: { path: '/srv/hp', type: 'DirectoryOrCreate' }, claimRef: { namespace: 'ns', name: 'c', uid: 'cu' } } },
      lo: { spec: { local: { path: '/srv/lo' } } },
      nfs: { spec: { nfs: { server: 'x', path: '/' } } },
    },
  );
  assert.deepEqual(await claimedHostPath(s, 'ns', { claimName: 'c' }), { path: '/srv/hp', type: 'DirectoryOrCreate' });
  assert.deepEqual(await claimedHostPath(s, 'ns', { claimName: 'l' }), { path: '/srv/lo', type: 'local' });
  await assert.rejects(claimedHostPath(s, 'ns', { claimName: 'zz' }), /error processing PVC ns\/zz: failed to fetch PVC from API server: persistentvolumeclaims "zz" not found/);
  await assert.rejects(claimedHostPath(s, 'ns', { claimName: 'p' }), /error processing PVC ns\/p: PVC is not bound/);
  await assert.rejects(claimedHostPath(s, 'ns', { claimName: 'n' }), /PV "nfs" is a nfs volume; mini-kubelet supports only hostPath and local/);
  await assert.rejects(claimedHostPath(s, 'ns', { claimName: 'o' }), /PV "hp" is bound to another claim/);
  await assert.rejects(claimedHostPath(undefined, 'ns', { claimName: 'c' }), /standalone/);
});

test('object watches: one per object, shared by pods, stopped when the last pod lets go', () => {
  const started: string[] = [];
  const stopped: string[] = [];
  const handlers = new Map<string, () => void>();
  const s = { ...sources({}, {}), watchObject: (kind: string, ns: string, name: string, onChange: () => void) => {
    const key = `${kind}/${ns}/${name}`;
    started.push(key);
    handlers.set(key, onChange);
    return () => stopped.push(key);
  } } as VolumeSources;
  const changed: string[][] = [];
  const watches = new ObjectWatches(s, uids => changed.push(uids.sort()));
  const pod = (uid: string, cm: string): V1Pod => ({ metadata: { uid, namespace: 'ns' }, spec: { containers: [], volumes: [
    { name: 'a', configMap: { name: cm } }, { name: 'b', projected: { sources: [{ secret: { name: 'sec' } }, { configMap: { name: cm } }] } },
  ] } });
  assert.deepEqual(referencedObjects(pod('1', 'cm')).map(r => `${r.kind}/${r.name}`), ['ConfigMap/cm', 'Secret/sec']);
  watches.use('1', referencedObjects(pod('1', 'cm')));
  watches.use('2', referencedObjects(pod('2', 'cm')));
  watches.use('2', referencedObjects(pod('2', 'cm')));
  assert.deepEqual(started, ['ConfigMap/ns/cm', 'Secret/ns/sec']);
  handlers.get('ConfigMap/ns/cm')!();
  assert.deepEqual(changed, [['1', '2']]);
  watches.release('1');
  assert.deepEqual(stopped, []);
  watches.release('2');
  assert.deepEqual(stopped.sort(), ['ConfigMap/ns/cm', 'Secret/ns/sec']);
  assert.equal(watches.size, 0);
});
