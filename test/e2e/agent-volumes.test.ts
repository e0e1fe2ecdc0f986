// Pod volumes on real containerd through the agent, checked from inside the container: each pod
// runs a script (cat, ls -l, stat, id, mount) and the test reads what it printed through
// `kubectl logs`. One world and one agent serve every subtest; they run concurrently.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import { pollFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, namespace, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

const execFileAsync = promisify(execFile);
const done = '==done==';

/** A container that runs `script`, prints the done marker and stays up (for mounts to be looked at). */
function reporter(image: string, script: string, extra: Partial<V1Container> = {}): V1Container {
  return { name: 'app', image, command: ['sh', '-c', `${script}\necho ${done}\nsleep 3600`], ...extra };
}

/** Creates the pod, waits until it runs and its script finished; returns what the script printed. */
async function report(h: AgentHarness, pod: V1Pod, container = 'app'): Promise<string> {
  const name = pod.metadata!.name!;
  await h.createPod(pod);
  await h.waitForPod(name, 'Running and Ready', isRunningAndReady);
  return pollFor(async () => {
    const out = await h.kubectl('logs', name, '-c', container);
    return out.includes(done) && out;
  }, { timeoutMs: 30_000, intervalMs: 200, what: `${name}/${container} to finish its script` });
}

/** The lines of `ls -ln` (or stat) output that end with `name`. */
function lineFor(out: string, suffix: string): string {
  const line = out.split('\n').find((l) => l.trimEnd().endsWith(suffix));
  assert.ok(line, `no line ending in ${suffix} in:\n${out}`);
  return line;
}

function mountinfoUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir));
}

test('pod volumes on real containerd through the agent', { timeout: 300_000, concurrency: true }, async (t) => {
  if (!requireE2e(t)) return;
  // Tokens may live 20 s here (kube's floor is 10 min), so a refresh at 80 % is seen in seconds.
  const h = await startAgentHarness(t, { nodeName: 'volume-node', apiServer: { minTokenExpirationSeconds: 20 } });
  const busybox = h.world.images.busybox;
  const hostDir = mkdtempSync(join(tmpdir(), 'mk-volumes-host-'));
  t.after(() => rmSync(hostDir, { recursive: true, force: true }));
  const podVolumesDir = (uid: string) => join(h.rootDir, 'pods', uid, 'volumes');

  const subtests = [
    t.test('emptyDir on disk is shared by two containers; medium Memory is a tmpfs of the size asked', async () => {
      const out = await report(h, busyboxPod('empty-dirs', busybox, {
        volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'ram', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }],
        initContainers: [{ name: 'writer', image: busybox, command: ['sh', '-c', 'echo from-init > /scratch/note'], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
        containers: [reporter(busybox, 'cat /scratch/note; grep " /ram " /proc/mounts; ls -ld /scratch', {
          volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }, { name: 'ram', mountPath: '/ram' }],
        })],
      }));
      assert.match(out, /^from-init$/m);
      assert.match(out, /^tmpfs \/ram tmpfs \S*size=16384k/m);
      assert.match(lineFor(out, '/scratch'), /^drwxrwxrwx/);
    }),

    t.test('configMap items, defaultMode and per-item mode are seen in the container; a write is refused', async () => {
      await h.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'settings' }, data: { 'app.conf': 'level=debug\n', other: 'x', nested: 'deep' } } });
      const out = await report(h, busyboxPod('cm-reader', busybox, {
        volumes: [{ name: 'cfg', configMap: { name: 'settings', defaultMode: 0o440, items: [{ key: 'app.conf', path: 'app.conf' }, { key: 'nested', path: 'dir/nested.txt', mode: 0o400 }] } }],
        containers: [reporter(busybox, 'cat /cfg/app.conf; cat /cfg/dir/nested.txt; echo; ls -lL /cfg /cfg/dir; ls -a /cfg; touch /cfg/new 2>&1 || echo write-refused', {
          volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }],
        })],
      }));
      assert.match(out, /^level=debug$/m);
      assert.match(out, /^deep$/m);
      assert.match(lineFor(out, ' app.conf'), /^-r--r-----/);
      assert.match(lineFor(out, ' nested.txt'), /^-r--------/);
      assert.doesNotMatch(out, /^other$/m, 'only the items asked for');
      assert.match(out, /^\.\.data$/m, 'the atomic writer\'s ..data link');
      assert.match(out, /write-refused/);
    }),

    t.test('a secret is on a tmpfs, with fsGroup group ownership and the group in id', async () => {
      await h.createSecret({ metadata: { name: 'creds' }, stringData: { password: 's3cret' } });
      const out = await report(h, busyboxPod('secret-reader', busybox, {
        securityContext: { fsGroup: 1234, runAsUser: 1000 },
        volumes: [{ name: 'creds', secret: { secretName: 'creds', defaultMode: 0o440 } }],
        containers: [reporter(busybox, 'cat /creds/password; echo; grep " /creds " /proc/mounts; ls -lnL /creds; id', {
          volumeMounts: [{ name: 'creds', mountPath: '/creds', readOnly: true }],
        })],
      }));
      assert.match(out, /^s3cret$/m);
      assert.match(out, /^tmpfs \/creds tmpfs ro/m);
      assert.match(lineFor(out, ' password'), /^-r--r-----\s+1\s+0\s+1234\s/);
      assert.match(out, /uid=1000 .*groups=.*1234/);
    }),

    t.test('downwardAPI files carry the pod\'s labels, annotations, name and a divided CPU limit', async () => {
      const out = await report(h, {
        ...busyboxPod('downward', busybox, {
          volumes: [{ name: 'info', downwardAPI: { items: [
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
            { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
            { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
            { path: 'cpu_limit_m', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu', divisor: '1m' } },
          ] } }],
          containers: [reporter(busybox, 'cat /info/labels; echo; cat /info/annotations; echo; cat /info/name; echo; cat /info/cpu_limit_m; echo', {
            resources: { limits: { cpu: '250m', memory: '64Mi' } },
            volumeMounts: [{ name: 'info', mountPath: '/info' }],
          })],
        }),
        metadata: { name: 'downward', namespace, labels: { tier: 'web', zone: 'a' }, annotations: { owner: 'team-x' } },
      });
      assert.match(out, /^tier="web"\nzone="a"$/m);
      assert.match(out, /^owner="team-x"/m);
      assert.match(out, /^downward$/m);
      assert.match(out, /^250$/m);
    }),

    t.test('a configMap update reaches the running pod (not through a subPath), and the delay is printed', async () => {
      await h.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'live' }, data: { value: 'one' } } });
      const pod = busyboxPod('live-reader', busybox, {
        volumes: [{ name: 'live', configMap: { name: 'live' } }],
        containers: [reporter(busybox, 'while true; do echo "seen=$(cat /live/value) pinned=$(cat /pinned)"; sleep 0.2; done', {
          volumeMounts: [{ name: 'live', mountPath: '/live' }, { name: 'live', mountPath: '/pinned', subPath: 'value' }],
        })],
      });
      await h.createPod(pod);
      await h.waitForPod('live-reader', 'Running and Ready', isRunningAndReady);
      await pollFor(async () => (await h.kubectl('logs', 'live-reader', '--tail=1')).includes('seen=one'), { timeoutMs: 20_000, intervalMs: 200, what: 'the first value' });
      const changed = Date.now();
      await h.core.patchNamespacedConfigMap({ namespace, name: 'live', body: { data: { value: 'two' } } }, (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'));
      const line = await pollFor(async () => {
        const last = (await h.kubectl('logs', 'live-reader', '--tail=1')).trim();
        return last.includes('seen=two') && last;
      }, { timeoutMs: 90_000, intervalMs: 100, what: 'the updated configMap in the running container' });
      console.log(`configMap update visible in the running pod after ${Date.now() - changed} ms`);
      assert.match(line, /pinned=one/, 'a subPath mount keeps the content it started with');
    }),

    t.test('a missing configMap: FailedMount and ContainerCreating, then Running once it exists', async () => {
      await h.createPod(busyboxPod('waits-for-cm', busybox, {
        volumes: [{ name: 'late', configMap: { name: 'late-config' } }],
        containers: [reporter(busybox, 'cat /late/k; echo', { volumeMounts: [{ name: 'late', mountPath: '/late' }] })],
      }));
      const pending = await h.waitForPod('waits-for-cm', 'ContainerCreating', (p) => p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating');
      assert.equal(pending!.status?.phase, 'Pending');
      const failed = await pollFor(async () => (await h.eventsOf('waits-for-cm')).find((e) => e.reason === 'FailedMount'), { timeoutMs: 30_000, intervalMs: 200, what: 'a FailedMount event' });
      assert.match(failed.message ?? '', /configmap "late-config" not found/);
      await h.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'late-config' }, data: { k: 'arrived' } } });
      await h.waitForPod('waits-for-cm', 'Running and Ready', isRunningAndReady, 60_000);
      assert.match(await pollFor(async () => {
        const out = await h.kubectl('logs', 'waits-for-cm');
        return out.includes(done) && out;
      }, { timeoutMs: 20_000, intervalMs: 200, what: 'the script' }), /^arrived$/m);
    }),

    t.test('an unsupported volume type is never ignored: FailedMount naming it, no false Running', async () => {
      await h.createPod(busyboxPod('nfs-user', busybox, {
        volumes: [{ name: 'share', nfs: { server: '10.0.0.1', path: '/exports' } }],
        containers: [reporter(busybox, 'true', { volumeMounts: [{ name: 'share', mountPath: '/share' }] })],
      }));
      const event = await pollFor(async () => (await h.eventsOf('nfs-user')).find((e) => e.reason === 'FailedMount'), { timeoutMs: 30_000, intervalMs: 200, what: 'a FailedMount event' });
      assert.match(event.message ?? '', /nfs/);
      const pod = await h.core.readNamespacedPod({ namespace, name: 'nfs-user' });
      assert.equal(pod.status?.phase, 'Pending');
      assert.equal(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
    }),

    t.test('hostPath types: DirectoryOrCreate makes the directory; a File that is not there is a FailedMount', async () => {
      const made = join(hostDir, 'made-by-kubelet');
      const out = await report(h, busyboxPod('host-paths', busybox, {
        volumes: [{ name: 'dir', hostPath: { path: made, type: 'DirectoryOrCreate' } }],
        containers: [reporter(busybox, 'echo hello > /host/greeting; ls -ld /host', { volumeMounts: [{ name: 'dir', mountPath: '/host' }] })],
      }));
      assert.match(out, /^drwxr-xr-x/m);
      assert.equal(readFileSync(join(made, 'greeting'), 'utf8'), 'hello\n');

      await h.createPod(busyboxPod('host-file-missing', busybox, {
        volumes: [{ name: 'f', hostPath: { path: join(hostDir, 'absent.txt'), type: 'File' } }],
        containers: [reporter(busybox, 'true', { volumeMounts: [{ name: 'f', mountPath: '/f' }] })],
      }));
      const event = await pollFor(async () => (await h.eventsOf('host-file-missing')).find((e) => e.reason === 'FailedMount'), { timeoutMs: 30_000, intervalMs: 200, what: 'a FailedMount event' });
      assert.match(event.message ?? '', /absent\.txt/);
    }),

    t.test('subPath and subPathExpr mount a part of a volume; a subPathExpr that climbs out is refused', async () => {
      const out = await report(h, busyboxPod('sub-paths', busybox, {
        volumes: [{ name: 'data', emptyDir: {} }],
        containers: [reporter(busybox, 'echo mine > /mine/file; echo expr > /expr/file; ls /all; ls /all/sub-paths', {
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          volumeMounts: [
            { name: 'data', mountPath: '/mine', subPath: 'fixed' },
            { name: 'data', mountPath: '/expr', subPathExpr: '$(POD_NAME)' },
            { name: 'data', mountPath: '/all' },
          ],
        })],
      }));
      assert.match(out, /^fixed$/m);
      assert.match(out, /^sub-paths$/m);

      await h.createPod(busyboxPod('sub-path-escape', busybox, {
        volumes: [{ name: 'data', emptyDir: {} }],
        containers: [reporter(busybox, 'true', {
          env: [{ name: 'UP', value: '../../etc' }],
          volumeMounts: [{ name: 'data', mountPath: '/x', subPathExpr: '$(UP)' }],
        })],
      }));
      const pod = await h.waitForPod('sub-path-escape', 'CreateContainerConfigError', (p) => p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
      assert.match(pod!.status!.containerStatuses![0]!.state!.waiting!.message ?? '', /\.\./);
    }),

    t.test('a PVC bound to a hostPath PV is the PV\'s directory', async () => {
      const pvDir = join(hostDir, 'pv');
      const manifest = join(hostDir, 'pv.yaml');
      writeFileSync(manifest, [
        YAML.stringify({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'local-pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', hostPath: { path: pvDir, type: 'DirectoryOrCreate' } } }),
        YAML.stringify({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'claim', namespace }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'manual', resources: { requests: { storage: '500Mi' } } } }),
      ].join('---\n'));
      await h.kubectl('apply', '-f', manifest);
      await pollFor(async () => (await h.kubectl('get', 'pvc', 'claim', '-o', 'jsonpath={.status.phase}')) === 'Bound', { timeoutMs: 20_000, intervalMs: 200, what: 'the claim to bind' });
      const out = await report(h, busyboxPod('pvc-user', busybox, {
        volumes: [{ name: 'store', persistentVolumeClaim: { claimName: 'claim' } }],
        containers: [reporter(busybox, 'echo persisted > /store/file; cat /store/file', { volumeMounts: [{ name: 'store', mountPath: '/store' }] })],
      }));
      assert.match(out, /^persisted$/m);
      assert.equal(readFileSync(join(pvDir, 'file'), 'utf8'), 'persisted\n');
    }),

    t.test('the service-account token is mounted by default, works against the control plane, and is absent when opted out', async () => {
      const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
      const out = await report(h, busyboxPod('sa-default', busybox, {
        containers: [reporter(busybox, `ls ${sa}; cat ${sa}/namespace; echo; echo "token=$(cat ${sa}/token)"`)],
      }));
      assert.match(out, /^ca\.crt$/m);
      assert.match(out, /^default$/m);
      const token = /^token=(\S+)$/m.exec(out)?.[1];
      assert.ok(token, out);
      const kubeconfig = join(hostDir, 'sa.kubeconfig');
      const admin = YAML.parse(readFileSync(h.kubeconfigPath, 'utf8'));
      for (const u of admin.users) u.user = { token };
      writeFileSync(kubeconfig, YAML.stringify(admin));
      const whoami = await execFileAsync('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { timeout: 20_000 });
      assert.equal(whoami.stdout, 'system:serviceaccount:default:default');
      for (const u of admin.users) u.user = { token: `${token.slice(0, -4)}AAAA` };
      writeFileSync(kubeconfig, YAML.stringify(admin));
      await assert.rejects(execFileAsync('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'whoami'], { timeout: 20_000 }), /provide credentials|Unauthorized/);

      const none = await report(h, busyboxPod('sa-opted-out', busybox, {
        automountServiceAccountToken: false,
        containers: [reporter(busybox, `ls ${sa} 2>&1 || echo no-token-dir`)],
      }));
      assert.match(none, /no-token-dir/);
    }),

    t.test('a projected token is refreshed before it expires (at 80 % of its life)', async () => {
      const lifetimeS = 40; // refreshed at 32 s: 8 s of margin for a loaded CI machine
      await h.createPod(busyboxPod('token-refresh', busybox, {
        automountServiceAccountToken: false,
        volumes: [{ name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: lifetimeS, audience: 'demo' } }] } }],
        containers: [reporter(busybox, 'while true; do echo "token=$(md5sum < /tok/token | cut -c1-12)"; sleep 0.5; done', {
          volumeMounts: [{ name: 'tok', mountPath: '/tok' }],
        })],
      }));
      await h.waitForPod('token-refresh', 'Running and Ready', isRunningAndReady);
      const tokens = async () => new Set((await h.kubectl('logs', 'token-refresh')).split('\n').filter((l) => l.startsWith('token=')));
      const first = await pollFor(async () => (await tokens()).size === 1 && [...await tokens()][0], { timeoutMs: 20_000, intervalMs: 200, what: 'the first token' });
      const firstSeen = Date.now();
      // The deadline is the first token's own expiry (its exp claim), read from inside the container.
      const jwt = (await h.kubectl('exec', 'token-refresh', '--', 'cat', '/tok/token')).trim();
      const expMs = (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number }).exp * 1000;
      const seen = await pollFor(async () => {
        const all = await tokens();
        return all.size >= 2 && all;
      }, { timeoutMs: Math.max(1000, expMs - Date.now()), intervalMs: 200, what: 'a refreshed token before the first one expires' });
      console.log(`token refreshed ${Date.now() - firstSeen} ms after the first was seen (lifetime ${lifetimeS} s)`);
      assert.ok(seen.has(first));
    }),
  ];
  await Promise.all(subtests);

  await t.test('deletion, and a SIGKILL + restart, leave no volume directory or mount behind', async () => {
    const uids = (await h.core.listNamespacedPod({ namespace })).items.map((p) => p.metadata!.uid!);
    // One pod is deleted while the agent is down: the restarted agent cleans it up.
    await h.killAgent();
    await h.kubectl('delete', 'pod', 'secret-reader', '--force', '--grace-period=0', '--wait=false');
    await h.startAgent();
    await h.kubectl('delete', 'pods', '--all', '--wait=false');
    for (const uid of uids) {
      await pollFor(() => !existsSync(podVolumesDir(uid)) && mountinfoUnder(join(h.rootDir, 'pods', uid)).length === 0,
        { timeoutMs: 60_000, intervalMs: 200, what: `pod ${uid}'s volumes to be gone` });
    }
    const left = existsSync(join(h.rootDir, 'pods')) ? readdirSync(join(h.rootDir, 'pods')).filter((u) => existsSync(podVolumesDir(u))) : [];
    assert.deepEqual(left, []);
    assert.deepEqual(mountinfoUnder(join(h.rootDir, 'pods')), []);
  });
});
