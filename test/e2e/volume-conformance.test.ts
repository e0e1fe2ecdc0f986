// The upstream node e2e cases for volumes, ported: every case tagged [Conformance] or
// [NodeConformance] in kubernetes' test/e2e/common/storage/ (empty_dir, configmap_volume,
// secrets_volume, downwardapi_volume, projected_configmap, projected_secret, projected_downwardapi,
// projected_combined, host_path) and the subPath cases of test/e2e/common/node/expansion.go, in
// our own words, against mini-kubelet on real containerd. Upstream runs agnhost's `mounttest`;
// here busybox scripts print the same facts (stat, cat, /proc/mounts, df, hexdump) and the test
// reads them back with `kubectl logs`. Cases that only differ in the volume they look at share a
// pod (one pod checks several volumes); each upstream case keeps a subtest of its own, named after
// it. A few cheap [NodeFeature:FSGroup] siblings ride along in the pods that run anyway.
//
// Left out, and why:
// - ConfigMap / Secret "should be immutable if `immutable` field is set": API-server behaviour
//   only (update refusals), no pod and no node involved: test/integration/apiserver-immutable.test.ts.
// - Variable Expansion "should allow composing env vars into new env vars", "... substituting
//   values in a container's command / args": env expansion, not volumes (not subPath cases).
// - Nothing else: the agnhost-only parts of the storage cases (mounttest's flags) are all facts
//   busybox can print, and no case here needs a second node.
// Upstream's "[Slow]" waits (5 minutes of Pending for a missing non-optional object) become a
// FailedMount event naming what is missing, and a last look after every other case (tens of
// seconds later, not five minutes) that those pods are still Pending.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { pollFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, namespace, startAgentHarness, waitingReason, type AgentHarness } from '../helpers/agent-harness.ts';

const done = '==done==';
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Shell functions every script starts with: one line per fact, `<kind> <path>: <value>`. */
const prelude = [
  `mode() { for p; do echo "mode $p: $(stat -L -c '%A %u %g' "$p" 2>&1)"; done; }`,
  `content() { for p; do echo "content $p: $(cat "$p" 2>&1)"; done; }`,
  `fstype() { for p; do echo "fstype $p: $(awk -v m="$p" '$2 == m { print $3 }' /proc/mounts)"; done; }`,
  // mounttest's --new_file_0xxx: a new file with that mode and its fixed text.
  `mk() { (umask 0; echo 'mount-tester new file' > "$1" && chmod "$2" "$1") 2>&1; }`,
  `await() { i=0; while [ ! -s "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; }`,
].join('\n');

function reporter(name: string, image: string, script: string, extra: Partial<V1Container> = {}): V1Container {
  return { name, image, command: ['sh', '-c', `${prelude}\n${script}\necho ${done}\nsleep 3600`], ...extra };
}

/** What one container printed once its script finished. */
async function logsOf(h: AgentHarness, pod: string, container: string): Promise<string> {
  return pollFor(async () => {
    const out = await h.kubectl('logs', pod, '-c', container);
    return out.includes(done) && out;
  }, { timeoutMs: 60_000, intervalMs: 250, what: `${pod}/${container} to finish its script` });
}

/** Creates the pod once, waits until it runs; then each container's output (memoized, for the subtests sharing it). */
function sharedPod(h: AgentHarness, build: () => V1Pod | Promise<V1Pod>): (container: string) => Promise<string> {
  let started: Promise<string> | undefined;
  const outputs = new Map<string, Promise<string>>();
  return (container) => {
    started ??= (async () => {
      const pod = await build();
      const name = pod.metadata!.name!;
      await h.createPod(pod);
      await h.waitForPod(name, 'Running and Ready', isRunningAndReady, 120_000);
      return name;
    })();
    if (!outputs.has(container)) outputs.set(container, started.then((name) => logsOf(h, name, container)));
    return outputs.get(container)!;
  };
}

/** The value of the `<kind> <path>: ` line. */
function fact(out: string, kind: 'mode' | 'content' | 'fstype' | 'size' | 'result' | 'names', path: string): string {
  const prefix = `${kind} ${path}: `;
  const line = out.split('\n').find((l) => l.startsWith(prefix));
  assert.ok(line !== undefined, `no "${prefix}" line in:\n${out}`);
  return line.slice(prefix.length);
}

/** Mode string and owner (`-rw-r--r-- 0 0`) of a path, checked against the expected mode. */
function assertMode(out: string, path: string, mode: RegExp | string, owner?: string): void {
  const [actual, uid, gid] = fact(out, 'mode', path).split(' ');
  if (typeof mode === 'string') assert.equal(actual, mode, `mode of ${path}`);
  else assert.match(actual ?? '', mode, `mode of ${path}`);
  if (owner) assert.equal(`${uid} ${gid}`, owner, `owner of ${path}`);
}

const cmVolume = (name: string, cm: string, more: Partial<NonNullable<V1Volume['configMap']>> = {}): V1Volume => ({ name, configMap: { name: cm, ...more } });
const secretVolume = (name: string, secret: string, more: Partial<NonNullable<V1Volume['secret']>> = {}): V1Volume => ({ name, secret: { secretName: secret, ...more } });
const projected = (name: string, sources: NonNullable<V1Volume['projected']>['sources'], defaultMode?: number): V1Volume => ({ name, projected: { sources, ...(defaultMode !== undefined ? { defaultMode } : {}) } });
const at = (name: string, mountPath: string, more: Record<string, unknown> = {}) => ({ name, mountPath, ...more });

test('upstream volume conformance cases on real containerd through the agent', { timeout: 420_000, concurrency: true }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t, { nodeName: 'volume-conformance' });
  const busybox = h.world.images.busybox;
  const hostDir = mkdtempSync(join(tmpdir(), 'mk-volconf-host-'));
  t.after(() => rmSync(hostDir, { recursive: true, force: true }));
  const configMap = (name: string, data: Record<string, string>, binaryData?: Record<string, string>) =>
    h.core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data, ...(binaryData ? { binaryData } : {}) } });
  const secret = (name: string, data: Record<string, string>, ns = namespace) =>
    h.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) } });
  const threeKeys = { 'data-1': 'value-1', 'data-2': 'value-2', 'data-3': 'value-3' };
  const threeSecretKeys = { 'data-1': 'value-1\n', 'data-2': 'value-2\n', 'data-3': 'value-3\n' };
  /** Pods that must stay Pending to the end (upstream's 5-minute Consistently). */
  const stayPending: string[] = [];

  const groups = [
    t.test('EmptyDir volumes', { concurrency: true }, async (g) => {
      const withoutFsGroup = sharedPod(h, () => busyboxPod('emptydir-modes', busybox, {
        volumes: [
          { name: 'disk', emptyDir: {} },
          { name: 'mem', emptyDir: { medium: 'Memory' } },
          { name: 'sized', emptyDir: { medium: 'Memory', sizeLimit: '10Mi' } },
          { name: 'shared', emptyDir: {} },
        ],
        containers: [
          reporter('root', busybox, [
            'for v in /disk /mem; do for m in 0644 0666 0777; do mk $v/root-$m $m; done; done',
            'mode /disk /mem /disk/root-0644 /disk/root-0666 /disk/root-0777 /mem/root-0644 /mem/root-0666 /mem/root-0777',
            'content /disk/root-0644 /disk/root-0666 /disk/root-0777 /mem/root-0644 /mem/root-0666 /mem/root-0777',
            'fstype /mem /sized',
            `echo "size /sized: $(df /sized | awk 'NR == 2 { print $2 }')"`,
            'await /usr/share/volumeshare/shareddata.txt; content /usr/share/volumeshare/shareddata.txt',
          ].join('\n'), { volumeMounts: [at('disk', '/disk'), at('mem', '/mem'), at('sized', '/sized'), at('shared', '/usr/share/volumeshare')] }),
          reporter('nonroot', busybox, [
            'for v in /disk /mem; do for m in 0644 0666 0777; do mk $v/nonroot-$m $m; done; done',
            'mode /disk/nonroot-0644 /disk/nonroot-0666 /disk/nonroot-0777 /mem/nonroot-0644 /mem/nonroot-0666 /mem/nonroot-0777',
            'content /disk/nonroot-0644 /disk/nonroot-0666 /disk/nonroot-0777 /mem/nonroot-0644 /mem/nonroot-0666 /mem/nonroot-0777',
            'fstype /mem',
          ].join('\n'), { securityContext: { runAsUser: 1001 }, volumeMounts: [at('disk', '/disk'), at('mem', '/mem')] }),
          { name: 'sub', image: busybox, command: ['sh', '-c', 'echo Hello from the busy-box sub-container > /pod-data/shareddata.txt; sleep 3600'], volumeMounts: [at('shared', '/pod-data')] },
        ],
      }));
      const withFsGroup = sharedPod(h, () => busyboxPod('emptydir-fsgroup', busybox, {
        securityContext: { fsGroup: 123 },
        volumes: [{ name: 'mem', emptyDir: { medium: 'Memory' } }, { name: 'disk', emptyDir: {} }],
        containers: [
          reporter('root', busybox, 'mk /mem/root-0660 0660; mk /mem/root-0644 0644; mode /mem /disk /mem/root-0660 /mem/root-0644; content /mem/root-0660 /mem/root-0644; fstype /mem',
            { volumeMounts: [at('mem', '/mem'), at('disk', '/disk')] }),
          reporter('nonroot', busybox, 'mk /mem/nonroot-0660 0660; mode /mem/nonroot-0660 /test-volume; content /mem/nonroot-0660; fstype /mem /test-volume',
            { securityContext: { runAsUser: 1001 }, volumeMounts: [at('mem', '/mem'), at('mem', '/test-volume', { subPath: 'test-sub' })] }),
        ],
      }));
      const newFile = 'mount-tester new file';
      const modeCases: Array<[string, 'root' | 'nonroot', 'disk' | 'mem', string, string]> = [];
      for (const [who, user] of [['root', 'root'], ['non-root', 'nonroot']] as const) {
        for (const [medium, dir] of [['tmpfs', 'mem'], ['default', 'disk']] as const) {
          for (const [octal, mode] of [['0644', '-rw-r--r--'], ['0666', '-rw-rw-rw-'], ['0777', '-rwxrwxrwx']]) {
            modeCases.push([`should support (${who},${octal},${medium})`, user, dir, octal!, mode!]);
          }
        }
      }
      await Promise.all([
        ...modeCases.map(([name, user, dir, octal, mode]) => g.test(name, async () => {
          const out = await withoutFsGroup(user);
          const file = `/${dir}/${user}-${octal}`;
          assertMode(out, file, mode);
          assert.equal(fact(out, 'mode', file).split(' ')[1], user === 'root' ? '0' : '1001', `owner of ${file}`);
          assert.equal(fact(out, 'content', file), newFile);
          if (dir === 'mem') assert.equal(fact(out, 'fstype', '/mem'), 'tmpfs');
        })),
        g.test('volume on tmpfs should have the correct mode', async () => {
          const out = await withoutFsGroup('root');
          assertMode(out, '/mem', /^drwxrwxrw[xt]$/);
          assert.equal(fact(out, 'fstype', '/mem'), 'tmpfs');
        }),
        g.test('volume on default medium should have the correct mode', async () => {
          const out = await withoutFsGroup('root');
          assertMode(out, '/disk', 'drwxrwxrwx');
        }),
        g.test('pod should support shared volumes between containers', async () => {
          assert.equal(fact(await withoutFsGroup('root'), 'content', '/usr/share/volumeshare/shareddata.txt'), 'Hello from the busy-box sub-container');
        }),
        g.test('pod should support memory backed volumes of specified size', async () => {
          const out = await withoutFsGroup('root');
          assert.equal(fact(out, 'fstype', '/sized'), 'tmpfs');
          assert.equal(fact(out, 'size', '/sized'), '10240');
        }),
        g.test('when FSGroup is specified: new files should be created with FSGroup ownership when container is root', async () => {
          const out = await withFsGroup('root');
          assertMode(out, '/mem/root-0660', '-rw-rw----', '0 123');
          assert.equal(fact(out, 'content', '/mem/root-0660'), newFile);
          assert.equal(fact(out, 'fstype', '/mem'), 'tmpfs');
        }),
        g.test('when FSGroup is specified: new files should be created with FSGroup ownership when container is non-root', async () => {
          const out = await withFsGroup('nonroot');
          assertMode(out, '/mem/nonroot-0660', '-rw-rw----', '1001 123');
          assert.equal(fact(out, 'content', '/mem/nonroot-0660'), newFile);
          assert.equal(fact(out, 'fstype', '/mem'), 'tmpfs');
        }),
        g.test('when FSGroup is specified: nonexistent volume subPath should have the correct mode and owner using FSGroup', async () => {
          const out = await withFsGroup('nonroot');
          // Made by the kubelet with the volume root's mode: tmpfs's sticky bit and fsGroup's setgid.
          assertMode(out, '/test-volume', 'drwxrwsrwt', '0 123');
          assert.equal(fact(out, 'fstype', '/test-volume'), 'tmpfs');
        }),
        g.test('when FSGroup is specified: files with FSGroup ownership should support (root,0644,tmpfs)', async () => {
          const out = await withFsGroup('root');
          assertMode(out, '/mem/root-0644', '-rw-r--r--', '0 123');
          assert.equal(fact(out, 'content', '/mem/root-0644'), newFile);
        }),
        g.test('when FSGroup is specified: volume on default medium should have the correct mode using FSGroup', async () => {
          const out = await withFsGroup('root');
          assertMode(out, '/disk', 'drwxrwsrwx', '0 123');
        }),
        g.test('when FSGroup is specified: volume on tmpfs should have the correct mode using FSGroup', async () => {
          const out = await withFsGroup('root');
          assertMode(out, '/mem', /^drwxrwsrw[xt]$/, '0 123');
          assert.equal(fact(out, 'fstype', '/mem'), 'tmpfs');
        }),
      ]);
    }),

    t.test('ConfigMap and projected configMap volumes', { concurrency: true }, async (g) => {
      await configMap('cm-vol', threeKeys);
      await configMap('cm-binary', { 'data-1': 'value-1' }, { 'dump.bin': Buffer.from([0xde, 0xca, 0xfe, 0xba, 0xd0, 0xfe, 0xff]).toString('base64') });
      const mapping = [{ key: 'data-2', path: 'path/to/data-2' }];
      const pcm = (items?: typeof mapping) => [{ configMap: { name: 'cm-vol', ...(items ? { items } : {}) } }];
      // Each volume is mounted at /etc/<volume name>.
      const volumes = (kinds: string[]): V1Volume[] => kinds.map((k) => ({
        plain: cmVolume(k, 'cm-vol'),
        plain2: cmVolume(k, 'cm-vol'),
        dmode: cmVolume(k, 'cm-vol', { defaultMode: 0o400 }),
        dmode440: cmVolume(k, 'cm-vol', { defaultMode: 0o440 }),
        mapped: cmVolume(k, 'cm-vol', { items: mapping }),
        mapmode: cmVolume(k, 'cm-vol', { items: [{ ...mapping[0]!, mode: 0o400 }] }),
        binary: cmVolume(k, 'cm-binary'),
        pplain: projected(k, pcm()),
        pplain2: projected(k, pcm()),
        pdmode: projected(k, pcm(), 0o400),
        pdmode440: projected(k, pcm(), 0o440),
        pmapped: projected(k, pcm(mapping)),
        pmapmode: projected(k, pcm(mapping), 0o400), // upstream sets the projection's defaultMode here
      }[k]!));
      const script = (kinds: string[]) => kinds.map((k) => k.includes('map')
        ? `mode /etc/${k}/path/to/data-2; content /etc/${k}/path/to/data-2`
        : `mode /etc/${k}/data-1; content /etc/${k}/data-1`).join('\n');
      const mounts = (kinds: string[]) => kinds.map((k) => at(k, `/etc/${k}`, { readOnly: true }));
      const rootKinds = ['plain', 'plain2', 'dmode', 'mapped', 'mapmode', 'binary', 'pplain', 'pplain2', 'pdmode', 'pmapped', 'pmapmode'];
      const userKinds = ['plain', 'mapped', 'pplain', 'pmapped'];
      const groupKinds = ['plain', 'dmode440', 'mapped', 'pplain', 'pdmode440', 'pmapped'];
      const asRoot = sharedPod(h, () => busyboxPod('cm-as-root', busybox, {
        volumes: volumes(rootKinds),
        containers: [reporter('app', busybox, `${script(rootKinds)}\nhexdump -C /etc/binary/dump.bin`, { volumeMounts: mounts(rootKinds) })],
      }));
      const asUser = sharedPod(h, () => busyboxPod('cm-as-user', busybox, {
        securityContext: { runAsUser: 1000 },
        volumes: volumes(userKinds),
        containers: [reporter('app', busybox, script(userKinds), { volumeMounts: mounts(userKinds) })],
      }));
      const asUserWithGroup = sharedPod(h, () => busyboxPod('cm-as-user-fsgroup', busybox, {
        securityContext: { runAsUser: 1000, fsGroup: 1001 },
        volumes: volumes(groupKinds),
        containers: [reporter('app', busybox, script(groupKinds), { volumeMounts: mounts(groupKinds) })],
      }));
      const cases: Array<[string, () => Promise<string>, string, string, string | undefined, string?]> = [];
      for (const [prefix, p] of [['', ''], ['projected: ', 'p']] as const) {
        cases.push(
          [`${prefix}should be consumable from pods in volume`, () => asRoot('app'), `${p}plain`, 'data-1', '-rw-r--r--'],
          [`${prefix}should be consumable from pods in volume with defaultMode set`, () => asRoot('app'), `${p}dmode`, 'data-1', '-r--------'],
          [`${prefix}should be consumable from pods in volume as non-root`, () => asUser('app'), `${p}plain`, 'data-1', '-rw-r--r--'],
          [`${prefix}should be consumable from pods in volume with mappings`, () => asRoot('app'), `${p}mapped`, 'path/to/data-2', '-rw-r--r--'],
          [`${prefix}should be consumable from pods in volume with mappings and Item mode set`, () => asRoot('app'), `${p}mapmode`, 'path/to/data-2', '-r--------'],
          [`${prefix}should be consumable from pods in volume with mappings as non-root`, () => asUser('app'), `${p}mapped`, 'path/to/data-2', '-rw-r--r--'],
          [`${prefix}[FSGroup] should be consumable from pods in volume as non-root with defaultMode and fsGroup set`, () => asUserWithGroup('app'), `${p}dmode440`, 'data-1', '-r--r-----', '0 1001'],
          [`${prefix}[FSGroup] should be consumable from pods in volume as non-root with FSGroup`, () => asUserWithGroup('app'), `${p}plain`, 'data-1', '-rw-r--r--', '0 1001'],
          // Upstream checks only the content here: fsGroup adjusts the mode.
          [`${prefix}[FSGroup] should be consumable from pods in volume with mappings as non-root with FSGroup`, () => asUserWithGroup('app'), `${p}mapped`, 'path/to/data-2', undefined, '0 1001'],
        );
      }
      await Promise.all([
        ...cases.map(([name, output, volume, file, mode, owner]) => g.test(name, async () => {
          const out = await output();
          const path = `/etc/${volume}/${file}`;
          assert.equal(fact(out, 'content', path), file === 'data-1' ? 'value-1' : 'value-2');
          if (mode) assertMode(out, path, mode, owner);
          else if (owner) assertMode(out, path, /./, owner);
        })),
        ...[['', ''], ['projected: ', 'p']].map(([prefix, p]) => g.test(`${prefix}should be consumable in multiple volumes in the same pod`, async () => {
          const out = await asRoot('app');
          assert.equal(fact(out, 'content', `/etc/${p}plain/data-1`), 'value-1');
          assert.equal(fact(out, 'content', `/etc/${p}plain2/data-1`), 'value-1');
        })),
        g.test('binary data should be reflected in volume', async () => {
          const out = await asRoot('app');
          assert.match(out, /de ca fe ba d0 fe ff/);
          assert.equal(fact(out, 'content', '/etc/binary/data-1'), 'value-1');
        }),
      ]);
    }),

    t.test('Secrets and projected secret volumes', { concurrency: true }, async (g) => {
      // The same name in another namespace holds other keys: the pod must see its own namespace's.
      await h.core.createNamespace({ body: { metadata: { name: 'secret-namespace' } } });
      await secret('sec-vol', { this_should_not_match_content_of_other_secret: 'similarly_this_should_not_match_content_of_other_secret\n' }, 'secret-namespace');
      await secret('sec-vol', threeSecretKeys);
      const mapping = [{ key: 'data-1', path: 'new-path-data-1' }];
      const ps = (items?: typeof mapping) => [{ secret: { name: 'sec-vol', ...(items ? { items } : {}) } }];
      const volumes = (kinds: string[]): V1Volume[] => kinds.map((k) => ({
        plain: secretVolume(k, 'sec-vol'),
        plain2: secretVolume(k, 'sec-vol'),
        dmode: secretVolume(k, 'sec-vol', { defaultMode: 0o400 }),
        dmode440: secretVolume(k, 'sec-vol', { defaultMode: 0o440 }),
        mapped: secretVolume(k, 'sec-vol', { items: mapping }),
        mapmode: secretVolume(k, 'sec-vol', { items: [{ ...mapping[0]!, mode: 0o400 }] }),
        pplain: projected(k, ps()),
        pplain2: projected(k, ps()),
        pdmode: projected(k, ps(), 0o400),
        pdmode440: projected(k, ps(), 0o440),
        pmapped: projected(k, ps(mapping)),
        pmapmode: projected(k, ps(mapping), 0o400),
      }[k]!));
      const fileOf = (k: string) => (k.includes('map') ? 'new-path-data-1' : 'data-1');
      const script = (kinds: string[]) => kinds.map((k) => `mode /etc/${k}/${fileOf(k)}; content /etc/${k}/${fileOf(k)}; fstype /etc/${k}; echo "names /etc/${k}: $(ls /etc/${k} | tr '\\n' ' ')"`).join('\n');
      const rootKinds = ['plain', 'plain2', 'dmode', 'mapped', 'mapmode', 'pplain', 'pplain2', 'pdmode', 'pmapped', 'pmapmode'];
      const groupKinds = ['dmode440', 'pdmode440'];
      const asRoot = sharedPod(h, () => busyboxPod('secret-as-root', busybox, {
        volumes: volumes(rootKinds),
        // Upstream mounts these read-write, except the two volumes of one secret.
        containers: [reporter('app', busybox, script(rootKinds), { volumeMounts: rootKinds.map((k) => at(k, `/etc/${k}`, k.includes('plain2') ? { readOnly: true } : {})) })],
      }));
      const asUserWithGroup = sharedPod(h, () => busyboxPod('secret-as-user-fsgroup', busybox, {
        securityContext: { runAsUser: 1000, fsGroup: 1001 },
        volumes: volumes(groupKinds),
        containers: [reporter('app', busybox, script(groupKinds), { volumeMounts: groupKinds.map((k) => at(k, `/etc/${k}`)) })],
      }));
      const cases: Array<[string, () => Promise<string>, string, string, string?]> = [];
      for (const [prefix, p] of [['', ''], ['projected: ', 'p']] as const) {
        cases.push(
          [`${prefix}should be consumable from pods in volume`, () => asRoot('app'), `${p}plain`, '-rw-r--r--'],
          [`${prefix}should be consumable from pods in volume with defaultMode set`, () => asRoot('app'), `${p}dmode`, '-r--------'],
          [`${prefix}should be consumable from pods in volume as non-root with defaultMode and fsGroup set`, () => asUserWithGroup('app'), `${p}dmode440`, '-r--r-----', '0 1001'],
          [`${prefix}should be consumable from pods in volume with mappings`, () => asRoot('app'), `${p}mapped`, '-rw-r--r--'],
          [`${prefix}should be consumable from pods in volume with mappings and Item Mode set`, () => asRoot('app'), `${p}mapmode`, '-r--------'],
        );
      }
      await Promise.all([
        ...cases.map(([name, output, volume, mode, owner]) => g.test(name, async () => {
          const out = await output();
          const path = `/etc/${volume}/${fileOf(volume)}`;
          assert.equal(fact(out, 'content', path), 'value-1');
          assertMode(out, path, mode, owner);
          assert.equal(fact(out, 'fstype', `/etc/${volume}`), 'tmpfs', 'secrets are kept off disk');
        })),
        ...[['', ''], ['projected: ', 'p']].map(([prefix, p]) => g.test(`${prefix}should be consumable in multiple volumes in a pod`, async () => {
          const out = await asRoot('app');
          for (const v of [`${p}plain`, `${p}plain2`]) {
            assert.equal(fact(out, 'content', `/etc/${v}/data-1`), 'value-1');
            assertMode(out, `/etc/${v}/data-1`, '-rw-r--r--');
          }
        })),
        ...[['', ''], ['projected: ', 'p']].map(([prefix, p]) => g.test(`${prefix}should be able to mount in a volume regardless of a different secret existing with same name in different namespace`, async () => {
          const names = fact(await asRoot('app'), 'names', `/etc/${p}plain`);
          assert.deepEqual(names.trim().split(/\s+/).sort(), ['data-1', 'data-2', 'data-3']);
        })),
      ]);
    }),

    t.test('Downward API and projected downwardAPI volumes', { concurrency: true }, async (g) => {
      await configMap('cm-all', { 'configmap-data': 'configmap-value-1' });
      await secret('sec-all', { 'secret-data': 'secret-value-1' });
      const podname = { path: 'podname', fieldRef: { fieldPath: 'metadata.name' } };
      const resources = (container: string) => (['limits.cpu', 'requests.cpu', 'limits.memory', 'requests.memory'] as const).map((resource) => ({
        path: `${resource.split('.')[1]}_${resource.startsWith('limits') ? 'limit' : 'request'}`, resourceFieldRef: { containerName: container, resource },
      }));
      const both = (name: string, items: NonNullable<V1Volume['downwardAPI']>['items'], defaultMode?: number): V1Volume[] => [
        { name, downwardAPI: { items, ...(defaultMode !== undefined ? { defaultMode } : {}) } },
        projected(`p${name}`, [{ downwardAPI: { items } }], defaultMode),
      ];
      const files = ['podname', 'cpu_limit', 'cpu_request', 'memory_limit', 'memory_request'];
      const asRoot = sharedPod(h, () => busyboxPod('downward-as-root', busybox, {
        volumes: [
          ...both('info', [podname, ...resources('client')]),
          ...both('defaults', resources('unlimited')),
          ...both('dmode', [podname], 0o400),
          ...both('imode', [{ ...podname, mode: 0o400 }]),
          projected('all', [{ downwardAPI: { items: [podname] } }, { secret: { name: 'sec-all' } }, { configMap: { name: 'cm-all' } }]),
        ],
        containers: [
          reporter('client', busybox, [
            ...['info', 'pinfo'].map((v) => `content ${files.map((f) => `/etc/${v}/${f}`).join(' ')}`),
            ...['defaults', 'pdefaults'].map((v) => `content /etc/${v}/cpu_limit /etc/${v}/memory_limit`),
            'mode /etc/dmode/podname /etc/pdmode/podname /etc/imode/podname /etc/pimode/podname',
            'content /all/podname /all/secret-data /all/configmap-data',
          ].join('\n'), {
            resources: { requests: { cpu: '250m', memory: '32Mi' }, limits: { cpu: '1250m', memory: '64Mi' } },
            volumeMounts: [...['info', 'pinfo', 'defaults', 'pdefaults', 'dmode', 'pdmode', 'imode', 'pimode'].map((v) => at(v, `/etc/${v}`)), at('all', '/all')],
          }),
          { name: 'unlimited', image: busybox, command: ['sleep', '3600'] },
        ],
      }));
      const asUserWithGroup = sharedPod(h, () => busyboxPod('downward-as-user-fsgroup', busybox, {
        securityContext: { runAsUser: 1000, fsGroup: 1234 },
        volumes: [...both('info', [podname]), ...both('imode', [{ ...podname, mode: 0o440 }])],
        containers: [reporter('client', busybox, 'content /etc/info/podname /etc/pinfo/podname; mode /etc/imode/podname /etc/pimode/podname', {
          volumeMounts: ['info', 'pinfo', 'imode', 'pimode'].map((v) => at(v, `/etc/${v}`)),
        })],
      }));
      const resourceCases: Array<[string, string, string]> = [
        ["should provide container's cpu limit", 'cpu_limit', '2'],
        ["should provide container's memory limit", 'memory_limit', '67108864'],
        ["should provide container's cpu request", 'cpu_request', '1'],
        ["should provide container's memory request", 'memory_request', '33554432'],
      ];
      const tests: Promise<void>[] = [];
      for (const [prefix, p] of [['', ''], ['projected: ', 'p']] as const) {
        tests.push(
          g.test(`${prefix}should provide podname only`, async () => {
            assert.equal(fact(await asRoot('client'), 'content', `/etc/${p}info/podname`), 'downward-as-root');
          }),
          g.test(`${prefix}should set DefaultMode on files`, async () => {
            assertMode(await asRoot('client'), `/etc/${p}dmode/podname`, '-r--------');
          }),
          g.test(`${prefix}should set mode on item file`, async () => {
            assertMode(await asRoot('client'), `/etc/${p}imode/podname`, '-r--------');
          }),
          ...resourceCases.map(([name, file, value]) => g.test(`${prefix}${name}`, async () => {
            assert.equal(fact(await asRoot('client'), 'content', `/etc/${p}info/${file}`), value);
          })),
          ...(['cpu', 'memory'] as const).map((r) => g.test(`${prefix}should provide node allocatable (${r}) as default ${r} limit if the limit is not set`, async () => {
            assert.match(fact(await asRoot('client'), 'content', `/etc/${p}defaults/${r}_limit`), /^[1-9][0-9]*$/);
          })),
          g.test(`${prefix}[FSGroup] should provide podname as non-root with fsgroup`, async () => {
            assert.equal(fact(await asUserWithGroup('client'), 'content', `/etc/${p}info/podname`), 'downward-as-user-fsgroup');
          }),
          g.test(`${prefix}[FSGroup] should provide podname as non-root with fsgroup and defaultMode`, async () => {
            assertMode(await asUserWithGroup('client'), `/etc/${p}imode/podname`, '-r--r-----', '0 1234');
          }),
        );
      }
      tests.push(g.test('projected combined: should project all components that make up the projection API', async () => {
        const out = await asRoot('client');
        assert.equal(fact(out, 'content', '/all/podname'), 'downward-as-root');
        assert.equal(fact(out, 'content', '/all/secret-data'), 'secret-value-1');
        assert.equal(fact(out, 'content', '/all/configmap-data'), 'configmap-value-1');
      }));
      await Promise.all(tests);
    }),

    t.test('updates seen by a running pod', { concurrency: true }, async (g) => {
      // One pod watches every file that upstream's update cases poll, one line per round.
      const kinds = ['cm', 'pcm', 'sec', 'psec'] as const;
      const isSecret = (k: string) => k.endsWith('sec');
      const objectName = (k: string, role: string) => `${k}-opt-${role}`;
      const optionalVolume = (k: (typeof kinds)[number], role: string): V1Volume => {
        const name = objectName(k, role);
        if (k === 'cm') return cmVolume(name, name, { optional: true });
        if (k === 'sec') return secretVolume(name, name, { optional: true });
        return projected(name, [k === 'pcm' ? { configMap: { name, optional: true } } : { secret: { name, optional: true } }]);
      };
      for (const k of kinds) {
        for (const role of ['del', 'upd']) {
          if (isSecret(k)) await secret(objectName(k, role), { 'data-1': 'value-1' });
          else await configMap(objectName(k, role), { 'data-1': 'value-1' });
        }
      }
      await configMap('cm-upd', { 'data-1': 'value-1' });
      await configMap('pcm-upd', { 'data-1': 'value-1' });
      const labelItems = [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }];
      const watched: Array<[string, string]> = [['live-cm-upd', '/upd/cm/data-1'], ['live-pcm-upd', '/upd/pcm/data-1'],
        ['labels', '/podinfo/labels'], ['annotations', '/podinfo/annotations'], ['plabels', '/ppodinfo/labels'], ['pannotations', '/ppodinfo/annotations']];
      const volumes: V1Volume[] = [cmVolume('cm-upd', 'cm-upd'), projected('pcm-upd', [{ configMap: { name: 'pcm-upd' } }]),
        { name: 'podinfo', downwardAPI: { items: labelItems } }, projected('ppodinfo', [{ downwardAPI: { items: labelItems } }])];
      const mounts = [at('cm-upd', '/upd/cm', { readOnly: true }), at('pcm-upd', '/upd/pcm', { readOnly: true }), at('podinfo', '/podinfo'), at('ppodinfo', '/ppodinfo')];
      for (const k of kinds) {
        for (const [role, file] of [['del', 'data-1'], ['upd', 'data-3'], ['create', 'data-1']]) {
          volumes.push(optionalVolume(k, role!));
          mounts.push(at(objectName(k, role!), `/opt/${k}/${role}`, { readOnly: true }));
          watched.push([`${k}-${role}`, `/opt/${k}/${role}/${file}`]);
        }
      }
      const show = `show() { if [ -e "$2" ]; then printf '%s=%s;' "$1" "$(tr '\\n' ',' < "$2")"; else printf '%s=<none>;' "$1"; fi; }`;
      const round = watched.map(([key, path]) => `show ${key} ${path}`).join('; ');
      const podName = 'live-reader';
      const ready = (async () => {
        await h.createPod({
          ...busyboxPod(podName, busybox, {
            volumes,
            containers: [{ name: 'app', image: busybox, command: ['sh', '-c', `${show}\nwhile true; do line=$(${round}); echo "$line#"; sleep 0.3; done`], volumeMounts: mounts }],
          }),
          metadata: { name: podName, namespace, labels: { key1: 'value1', key2: 'value2' }, annotations: { builder: 'bar' } },
        });
        await h.waitForPod(podName, 'Running and Ready', isRunningAndReady, 120_000);
      })();
      /** The last complete round the pod printed, as key → content (`<none>`: no such file). */
      const lastRound = async (): Promise<Map<string, string> | undefined> => {
        const line = (await h.kubectl('logs', podName, '--tail=2')).split('\n').filter((l) => l.endsWith('#')).pop();
        if (!line) return undefined;
        return new Map(line.slice(0, -1).split(';').filter((s) => s.includes('=')).map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]));
      };
      const seen = async (what: string, holds: (r: Map<string, string>) => boolean, timeoutMs = 90_000) => {
        const started = Date.now();
        const r = await pollFor(async () => {
          const last = await lastRound();
          return last && holds(last) && last;
        }, { timeoutMs, intervalMs: 200, what: `${podName} to see ${what}` }).catch(async (err) => {
          throw new Error(`${(err as Error).message}\nlast round: ${JSON.stringify([...(await lastRound() ?? new Map())])}`);
        });
        return { round: r, ms: Date.now() - started };
      };
      await ready;
      await seen('the first round', (r) => r.get('live-cm-upd') === 'value-1');

      await Promise.all([
        ...[['configMap', 'cm-upd'], ['projected configMap', 'pcm-upd']].map(([label, name]) => g.test(`${label}: updates should be reflected in volume`, async () => {
          await h.kubectl('patch', 'configmap', name!, '--type=merge', '-p', JSON.stringify({ data: { 'data-1': 'value-2' } }));
          const { ms } = await seen(`${name} updated`, (r) => r.get(`live-${name}`) === 'value-2');
          console.log(`${label} update seen by the running pod after ${ms} ms`);
        })),
        ...kinds.map((k) => g.test(`${{ cm: 'configMap', pcm: 'projected configMap', sec: 'secret', psec: 'projected secret' }[k]}: optional updates should be reflected in volume`, async () => {
          const before = (await lastRound())!;
          assert.equal(before.get(`${k}-del`), 'value-1');
          assert.equal(before.get(`${k}-upd`), '<none>');
          assert.equal(before.get(`${k}-create`), '<none>');
          const kind = isSecret(k) ? 'secret' : 'configmap';
          await h.kubectl('delete', kind, objectName(k, 'del'));
          await h.kubectl('patch', kind, objectName(k, 'upd'), '--type=merge', '-p', JSON.stringify({ data: { 'data-1': null, 'data-3': isSecret(k) ? b64('value-3') : 'value-3' } }));
          if (isSecret(k)) await secret(objectName(k, 'create'), { 'data-1': 'value-1' });
          else await configMap(objectName(k, 'create'), { 'data-1': 'value-1' });
          const { ms } = await seen(`${k}: created, updated and deleted`, (r) => r.get(`${k}-create`) === 'value-1' && r.get(`${k}-upd`) === 'value-3' && r.get(`${k}-del`) === '<none>');
          console.log(`${k}: optional create/update/delete seen by the running pod after ${ms} ms`);
        })),
        g.test('downward API (plain and projected): should update labels on modification', async () => {
          const before = (await lastRound())!;
          for (const key of ['labels', 'plabels']) assert.match(before.get(key) ?? '', /key1="value1",key2="value2"/);
          await h.kubectl('label', 'pod', podName, 'key3=value3');
          const { ms } = await seen('the new label', (r) => ['labels', 'plabels'].every((key) => (r.get(key) ?? '').includes('key3="value3"')));
          console.log(`label change seen by the running pod after ${ms} ms`);
        }),
        g.test('downward API (plain and projected): should update annotations on modification', async () => {
          const before = (await lastRound())!;
          for (const key of ['annotations', 'pannotations']) assert.match(before.get(key) ?? '', /builder="bar"/);
          await h.kubectl('annotate', 'pod', podName, 'builder=foo', '--overwrite');
          const { ms } = await seen('the changed annotation', (r) => ['annotations', 'pannotations'].every((key) => (r.get(key) ?? '').includes('builder="foo"')));
          console.log(`annotation change seen by the running pod after ${ms} ms`);
        }),
      ]);
    }),

    t.test('missing non-optional objects keep the pod Pending', { concurrency: true }, async (g) => {
      await configMap('cm-without-key', threeKeys);
      await secret('secret-without-key', threeSecretKeys);
      const cases: Array<[string, string, V1Volume, RegExp]> = [
        ['ConfigMap: Should fail non-optional pod creation due to configMap object does not exist', 'cm-missing', cmVolume('v', 'cm-test-opt-create', { optional: false }), /configmap "cm-test-opt-create" not found/],
        ['ConfigMap: Should fail non-optional pod creation due to the key in the configMap object does not exist', 'cm-key-missing', cmVolume('v', 'cm-without-key', { optional: false, items: [{ key: 'data-4', path: 'path/to/data-4' }] }), /non-existent config key: data-4/],
        ['Secrets: Should fail non-optional pod creation due to secret object does not exist', 'secret-missing', secretVolume('v', 's-test-opt-create', { optional: false }), /secret "s-test-opt-create" not found/],
        ['Secrets: Should fail non-optional pod creation due to the key in the secret object does not exist', 'secret-key-missing', secretVolume('v', 'secret-without-key', { optional: false, items: [{ key: 'data_4', path: 'value-4' }] }), /non-existent secret key: data_4/],
      ];
      await Promise.all(cases.map(([name, pod, volume, message]) => g.test(name, async () => {
        await h.createPod(busyboxPod(pod, busybox, { volumes: [volume], containers: [reporter('app', busybox, 'true', { volumeMounts: [at('v', '/etc/v', { readOnly: true })] })] }));
        const event = await pollFor(async () => (await h.eventsOf(pod)).find((e) => e.reason === 'FailedMount'), { timeoutMs: 60_000, intervalMs: 250, what: `a FailedMount event for ${pod}` });
        assert.match(event.message ?? '', message);
        const now = await h.core.readNamespacedPod({ namespace, name: pod });
        assert.equal(now.status?.phase, 'Pending');
        assert.equal(waitingReason(now), 'ContainerCreating');
        stayPending.push(pod);
      })));
    }),

    t.test('HostPath', { concurrency: true }, async (g) => {
      const dir = join(hostDir, 'tmp-like');
      mkdirSync(dir);
      chmodSync(dir, 0o1777); // as /tmp, upstream's hostPath
      const pod = sharedPod(h, () => busyboxPod('host-path', busybox, {
        volumes: [{ name: 'test-volume', hostPath: { path: dir } }],
        containers: [
          reporter('writer', busybox, 'mode /test-volume; mk /test-volume/test-file 0644; mk /sub-volume/test-file 0644; mode /test-volume/test-file /sub-volume/test-file',
            { volumeMounts: [at('test-volume', '/test-volume'), at('test-volume', '/sub-volume', { subPath: 'sub-path' })] }),
          reporter('reader', busybox, 'await /test-volume/test-file; await /test-volume/sub-path/test-file; content /test-volume/test-file /test-volume/sub-path/test-file',
            { volumeMounts: [at('test-volume', '/test-volume')] }),
        ],
      }));
      await Promise.all([
        g.test('should give a volume the correct mode', async () => {
          assertMode(await pod('writer'), '/test-volume', /^drwxrwxrw[tT]$/);
        }),
        g.test('should support r/w', async () => {
          assertMode(await pod('writer'), '/test-volume/test-file', '-rw-r--r--');
          assert.equal(fact(await pod('reader'), 'content', '/test-volume/test-file'), 'mount-tester new file');
          assert.equal(readFileSync(join(dir, 'test-file'), 'utf8'), 'mount-tester new file\n');
        }),
        g.test('should support subPath', async () => {
          assert.equal(fact(await pod('reader'), 'content', '/test-volume/sub-path/test-file'), 'mount-tester new file');
          assert.ok(existsSync(join(dir, 'sub-path', 'test-file')));
        }),
      ]);
    }),

    t.test('Variable Expansion in subPathExpr', { concurrency: true }, async (g) => {
      const workdir: V1Volume[] = [{ name: 'workdir1', emptyDir: {} }];
      const annotationEnv = [{ name: 'POD_NAME', value: 'foo' }, { name: 'ANNOTATION', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['mysubpath']" } } }];
      const refused = (name: string, value: string, message: RegExp) => g.test(name, async () => {
        const pod = `subpath-refused-${value === '..' ? 'dotdot' : 'absolute'}`;
        await h.createPod(busyboxPod(pod, busybox, {
          volumes: workdir,
          containers: [{ name: 'app', image: busybox, command: ['sleep', '3600'], env: [{ name: 'POD_NAME', value }], volumeMounts: [at('workdir1', '/logscontainer', { subPathExpr: '$(POD_NAME)' })] }],
        }));
        const failed = await h.waitForPod(pod, 'CreateContainerConfigError', (p) => waitingReason(p) === 'CreateContainerConfigError');
        assert.match(failed!.status!.containerStatuses![0]!.state!.waiting!.message ?? '', message);
      });
      await Promise.all([
        g.test('should allow substituting values in a volume subpath', async () => {
          const name = 'var-expansion-subpath';
          await h.createPod(busyboxPod(name, busybox, {
            volumes: workdir,
            containers: [reporter('app', busybox, `test -d /testcontainer/${name}; echo "result /testcontainer/${name}: $?"`, {
              env: [{ name: 'POD_NAME', value: name }],
              volumeMounts: [at('workdir1', '/logscontainer', { subPathExpr: '$(POD_NAME)' }), at('workdir1', '/testcontainer')],
            })],
          }));
          await h.waitForPod(name, 'Running and Ready', isRunningAndReady, 120_000);
          assert.equal(fact(await logsOf(h, name, 'app'), 'result', `/testcontainer/${name}`), '0');
        }),
        refused('should fail substituting values in a volume subpath with backticks', '..', /\.\./),
        refused('should fail substituting values in a volume subpath with absolute path', '/tmp', /absolute/),
        g.test('should verify that a failing subpath expansion can be modified during the lifecycle of a container', async () => {
          const name = 'var-expansion-fixed-later';
          await h.createPod({
            ...busyboxPod(name, busybox, {
              volumes: workdir,
              containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'tail -f /dev/null'], env: annotationEnv, volumeMounts: [at('workdir1', '/subpath_mount', { subPathExpr: '$(ANNOTATION)/$(POD_NAME)' }), at('workdir1', '/volume_mount')] }],
            }),
            metadata: { name, namespace, annotations: { notmysubpath: 'mypath' } },
          });
          await h.waitForPod(name, 'CreateContainerConfigError', (p) => waitingReason(p) === 'CreateContainerConfigError');
          await h.kubectl('annotate', 'pod', name, 'mysubpath=mypath');
          await h.waitForPod(name, 'Running and Ready once the annotation is there', isRunningAndReady, 120_000);
          await h.kubectl('delete', 'pod', name, '--wait=false');
          await h.waitForPodGone(name);
        }),
        g.test('should succeed in writing subpaths in container', async () => {
          const name = 'var-expansion-writes';
          await h.createPod({
            ...busyboxPod(name, busybox, {
              volumes: [...workdir, { name: 'podinfo', downwardAPI: { items: [{ path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }] } }],
              containers: [reporter('app', busybox, [
                'touch /volume_mount/mypath/foo/test.log; echo "result write: $?"',
                'test -f /subpath_mount/test.log; echo "result read: $?"',
                // Then report the annotations, so the test knows when the agent has seen a change.
                'while true; do echo "annotations: $(tr \'\\n\' \',\' < /podinfo/annotations)"; sleep 0.3; done',
              ].join('\n'), { env: annotationEnv, volumeMounts: [at('workdir1', '/subpath_mount', { subPathExpr: '$(ANNOTATION)/$(POD_NAME)' }), at('workdir1', '/volume_mount'), at('podinfo', '/podinfo')] })],
            }),
            metadata: { name, namespace, annotations: { mysubpath: 'mypath' } },
          });
          await h.waitForPod(name, 'Running and Ready', isRunningAndReady, 120_000);
          const out = await pollFor(async () => {
            const logs = await h.kubectl('logs', name);
            return logs.includes('annotations:') && logs;
          }, { timeoutMs: 30_000, intervalMs: 250, what: `${name}'s script` });
          assert.equal(fact(out, 'result', 'write'), '0');
          assert.equal(fact(out, 'result', 'read'), '0');
          // A changed expansion does not touch a running container (kubelet: no restart).
          await h.kubectl('annotate', 'pod', name, 'mysubpath=mynewpath', '--overwrite');
          await pollFor(async () => (await h.kubectl('logs', name, '--tail=1')).includes('mysubpath="mynewpath"'), { timeoutMs: 90_000, intervalMs: 250, what: 'the agent to see the new annotation' });
          const pod = await h.core.readNamespacedPod({ namespace, name });
          assert.ok(isRunningAndReady(JSON.parse(JSON.stringify(pod)) as V1Pod));
          assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0);
          await h.kubectl('delete', 'pod', name, '--wait=false');
          await h.waitForPodGone(name);
        }),
      ]);
    }),
  ];
  await Promise.all(groups);

  await t.test('pods with a missing non-optional object are still Pending at the end', async () => {
    assert.equal(stayPending.length, 4);
    for (const name of stayPending) {
      const pod = await h.core.readNamespacedPod({ namespace, name });
      assert.equal(pod.status?.phase, 'Pending', name);
      assert.equal(waitingReason(pod), 'ContainerCreating', name);
    }
  });

  await t.test('every pod deleted: no volume mount is left behind', async () => {
    const pods = (await h.core.listNamespacedPod({ namespace })).items.map((p) => p.metadata!.name!);
    await h.kubectl('delete', 'pods', '--all', '--wait=false');
    await Promise.all(pods.map((name) => h.waitForPodGone(name, 90_000)));
    const podsDir = join(h.rootDir, 'pods');
    await pollFor(() => !readFileSync('/proc/self/mountinfo', 'utf8').includes(podsDir), { timeoutMs: 60_000, intervalMs: 250, what: 'no mount under the pods directory' });
  });
});
