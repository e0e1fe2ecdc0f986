// PersistentVolumes and PersistentVolumeClaims on the dev API server through the machine's
// kubectl, as on a cluster with static provisioning: apply, the columns `kubectl get` shows,
// binding by matching and by name, what stays Pending and why, release when the claim goes;
// and the kube-root-ca.crt ConfigMap every namespace holds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { pollFor } from '../../src/world/wait.ts';
import { apiJson } from '../helpers/api-client.ts';

interface Run { code: number; stdout: string; stderr: string }

let server: RunningApiServer;
let dir: string;

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('/usr/bin/kubectl', args, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

async function kubectlOk(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function apply(name: string, yaml: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, yaml);
  return kubectlOk('apply', '-f', file);
}

const getJson = async (...args: string[]) => JSON.parse(await kubectlOk('get', ...args, '-o', 'json'));

/** The object once probe accepts it (polled through the API, not slept for). */
const waitForObject = (path: string, what: string, probe: (o: any) => boolean) =>
  pollFor(async () => {
    const { status, json } = await apiJson(server, 'GET', path);
    return status === 200 && probe(json) ? json : undefined;
  }, { what, timeoutMs: 10_000, intervalMs: 20 });

const phaseIs = (phase: string) => (o: any) => o.status?.phase === phase;

function hostPathVolume(name: string, size: string, modes: string[], extra = ''): string {
  return `apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${name}
spec:
  capacity:
    storage: ${size}
  accessModes: [${modes.join(', ')}]
  hostPath:
    path: /srv/${name}${extra}
`;
}

function claim(name: string, size: string, extra = ''): string {
  return `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${name}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: ${size}${extra}
`;
}

/** kubectl's table as rows of cells, split on its column gaps. */
const rows = (table: string) => table.trim().split('\n').map((line) => line.trim().split(/\s{2,}/));

describe('persistent volumes and claims on the dev API server', { timeout: 120_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apiserver-volumes-'));
    server = await startApiServer({ port: 0, binder: false, kubeconfigOut: join(dir, 'kubeconfig'), logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('discovery lists pv and pvc with their short names and status subresources', async () => {
    const resources = await kubectlOk('api-resources', '--api-group=', '-o', 'wide');
    assert.match(resources, /^persistentvolumeclaims\s+pvc\s+v1\s+true\s+PersistentVolumeClaim\s/m);
    assert.match(resources, /^persistentvolumes\s+pv\s+v1\s+false\s+PersistentVolume\s/m);
    const list = await apiJson(server, 'GET', '/api/v1');
    const names = list.json.resources.map((r: any) => r.name);
    for (const n of ['persistentvolumes', 'persistentvolumes/status', 'persistentvolumeclaims', 'persistentvolumeclaims/status']) assert.ok(names.includes(n), n);
  });

  test('a claim binds to the smallest Available volume that satisfies it, with kube\'s columns, annotations and claimRef', async () => {
    await apply('volumes', [
      hostPathVolume('pv-10g', '10Gi', ['ReadWriteOnce']),
      hostPathVolume('pv-2g', '2Gi', ['ReadWriteOnce', 'ReadOnlyMany']),
      hostPathVolume('pv-1g-rox', '1Gi', ['ReadOnlyMany']),
      hostPathVolume('pv-500m', '500Mi', ['ReadWriteOnce']),
    ].join('---\n'));
    for (const pv of ['pv-10g', 'pv-2g', 'pv-1g-rox', 'pv-500m']) await waitForObject(`/api/v1/persistentvolumes/${pv}`, `${pv} Available`, phaseIs('Available'));
    const available = rows(await kubectlOk('get', 'pv', 'pv-2g'));
    assert.deepEqual(available[0], ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE']);
    assert.deepEqual(available[1].slice(0, 5), ['pv-2g', '2Gi', 'RWO,ROX', 'Retain', 'Available']);

    await apply('data', claim('data', '1Gi'));
    const pvc = await waitForObject('/api/v1/namespaces/default/persistentvolumeclaims/data', 'data Bound', phaseIs('Bound'));
    // 1Gi RWO: pv-500m is too small, pv-1g-rox lacks RWO, pv-2g is smaller than pv-10g.
    assert.equal(pvc.spec.volumeName, 'pv-2g');
    assert.deepEqual(pvc.status.capacity, { storage: '2Gi' });
    assert.deepEqual(pvc.status.accessModes, ['ReadWriteOnce', 'ReadOnlyMany']);
    assert.equal(pvc.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(pvc.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');

    const pv = await waitForObject('/api/v1/persistentvolumes/pv-2g', 'pv-2g Bound', phaseIs('Bound'));
    assert.deepEqual(pv.spec.claimRef, {
      kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: pvc.metadata.uid, apiVersion: 'v1', resourceVersion: pv.spec.claimRef.resourceVersion,
    });
    assert.match(pv.spec.claimRef.resourceVersion, /^\d+$/);
    assert.equal(pv.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
    assert.equal(pv.spec.hostPath.type, '');

    const pvcTable = rows(await kubectlOk('get', 'pvc', 'data', '-o', 'wide'));
    assert.deepEqual(pvcTable[0], ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE', 'VOLUMEMODE']);
    // The empty STORAGECLASS cell disappears into the gap kubectl leaves for it.
    assert.deepEqual([...pvcTable[1].slice(0, 6), pvcTable[1][7]], ['data', 'Bound', 'pv-2g', '2Gi', 'RWO,ROX', '<unset>', 'Filesystem']);
    const pvTable = rows(await kubectlOk('get', 'pv', 'pv-2g'));
    assert.deepEqual(pvTable[1].slice(0, 6), ['pv-2g', '2Gi', 'RWO,ROX', 'Retain', 'Bound', 'default/data']);

    // Applying the same manifests again changes nothing.
    assert.match(await apply('data', claim('data', '1Gi')), /persistentvolumeclaim\/data unchanged/);
  });

  test('a claim naming its volume binds to it alone; the volume is not marked bound by the controller', async () => {
    await apply('named', claim('named', '100Mi', '\n  volumeName: pv-10g'));
    const pvc = await waitForObject('/api/v1/namespaces/default/persistentvolumeclaims/named', 'named Bound', phaseIs('Bound'));
    assert.equal(pvc.spec.volumeName, 'pv-10g');
    assert.equal(pvc.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
    // The user chose the volume, so the claim is not bound-by-controller; the volume's claimRef is the controller's doing.
    assert.equal(pvc.metadata.annotations['pv.kubernetes.io/bound-by-controller'], undefined);
    const pv = await getJson('pv', 'pv-10g');
    assert.equal(pv.spec.claimRef.uid, pvc.metadata.uid);
    assert.equal(pv.metadata.annotations['pv.kubernetes.io/bound-by-controller'], 'yes');
    assert.equal(pv.status.phase, 'Bound');
  });

  test('a claim nothing satisfies stays Pending with the controller\'s event', async () => {
    await apply('huge', claim('huge', '1Ti'));
    const events = await pollFor(async () => {
      const list = await getJson('events', '--field-selector', 'involvedObject.name=huge');
      return list.items.length ? list.items : undefined;
    }, { what: 'an event about the claim', timeoutMs: 10_000, intervalMs: 20 });
    assert.equal(events.length, 1);
    assert.equal(events[0].reason, 'FailedBinding');
    assert.equal(events[0].type, 'Normal');
    assert.equal(events[0].message, 'no persistent volumes available for this claim and no storage class is set');
    assert.equal(events[0].source.component, 'persistentvolume-controller');
    assert.equal((await getJson('pvc', 'huge')).status.phase, 'Pending');
    assert.match(await kubectlOk('describe', 'pvc', 'huge'), /FailedBinding .*persistentvolume-controller\s+no persistent volumes available for this claim and no storage class is set/);

    await apply('classy', claim('classy', '1Mi', '\n  storageClassName: fast'));
    const classEvent = await pollFor(async () => (await getJson('events', '--field-selector', 'involvedObject.name=classy')).items[0], { what: 'classy event', timeoutMs: 10_000, intervalMs: 20 });
    assert.equal(classEvent.reason, 'ProvisioningFailed');
    assert.equal(classEvent.message, 'storageclass.storage.k8s.io "fast" not found');

    // A volume that fits arrives: the waiting claim binds.
    await apply('pv-2t', hostPathVolume('pv-2t', '2Ti', ['ReadWriteOnce']));
    const bound = await waitForObject('/api/v1/namespaces/default/persistentvolumeclaims/huge', 'huge Bound', phaseIs('Bound'));
    assert.equal(bound.spec.volumeName, 'pv-2t');
  });

  test('deleting the claim releases its volume, which keeps the claimRef and binds no new claim', async () => {
    const before = await getJson('pv', 'pv-2g');
    await kubectlOk('delete', 'pvc', 'data');
    const released = await waitForObject('/api/v1/persistentvolumes/pv-2g', 'pv-2g Released', phaseIs('Released'));
    assert.deepEqual(released.spec.claimRef, before.spec.claimRef);
    assert.match(rows(await kubectlOk('get', 'pv', 'pv-2g'))[1].join(' '), /^pv-2g 2Gi RWO,ROX Retain Released default\/data /);

    // Same name, new uid, naming the volume: the released data is not handed over; the claim waits.
    await apply('again', claim('data', '1Gi', '\n  volumeName: pv-2g'));
    await pollFor(async () => ((await getJson('pvc', 'data')).metadata.uid !== before.spec.claimRef.uid ? true : undefined), { what: 'new claim', timeoutMs: 5000 });
    // An unrelated write gives the controller another pass; still Pending.
    await apply('pv-unrelated', hostPathVolume('pv-unrelated', '1Mi', ['ReadWriteOnce']));
    await waitForObject('/api/v1/persistentvolumes/pv-unrelated', 'pv-unrelated Available', phaseIs('Available'));
    assert.equal((await getJson('pvc', 'data')).status.phase, 'Pending');
    assert.equal((await getJson('pv', 'pv-2g')).status.phase, 'Released');

    // The admin clears the claimRef: the volume is Available again and the waiting claim takes it.
    await kubectlOk('patch', 'pv', 'pv-2g', '--type=json', '-p', '[{"op":"remove","path":"/spec/claimRef"}]');
    const rebound = await waitForObject('/api/v1/namespaces/default/persistentvolumeclaims/data', 'data Bound again', phaseIs('Bound'));
    assert.equal(rebound.spec.volumeName, 'pv-2g');
  });

  test('invalid volumes and claims are refused with kube\'s field errors', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, `apiVersion: v1
kind: PersistentVolume
metadata:
  name: bad
spec:
  accessModes: [ReadWriteSometimes]
  capacity:
    storage: 1Gi
  hostPath:
    path: /a
  nfs:
    server: x
    path: /b
`);
    const pv = await kubectl('create', '-f', file);
    // kubectl lists the causes itself, one a line.
    assert.equal(pv.stderr, 'The PersistentVolume "bad" is invalid: \n'
      + '* spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"\n'
      + '* spec.nfs: Forbidden: may not specify more than 1 volume type\n');
    const noSource = await apiJson(server, 'POST', '/api/v1/persistentvolumes', { metadata: { name: 'bare' }, spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } });
    assert.equal(noSource.status, 422);
    assert.equal(noSource.json.message, 'PersistentVolume "bare" is invalid: spec: Required value: must specify a volume type');
    const noRequest = await apiJson(server, 'POST', '/api/v1/namespaces/default/persistentvolumeclaims', { metadata: { name: 'bare' }, spec: {} });
    assert.equal(noRequest.json.message, 'PersistentVolumeClaim "bare" is invalid: [spec.accessModes: Required value: at least 1 access mode is required, spec.resources[storage]: Required value]');
    const shrink = await kubectl('patch', 'pvc', 'named', '-p', '{"spec":{"resources":{"requests":{"storage":"1Mi"}}}}');
    assert.match(shrink.stderr, /spec.resources.requests.storage: Forbidden: field can not be less than previous value/);
    const move = await kubectl('patch', 'pv', 'pv-10g', '-p', '{"spec":{"hostPath":{"path":"/elsewhere"}}}');
    assert.match(move.stderr, /spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation/);
  });

  test('field selectors: metadata.name and the legacy name field', async () => {
    assert.deepEqual((await getJson('pv', '--field-selector', 'name=pv-10g')).items.map((o: any) => o.metadata.name), ['pv-10g']);
    assert.deepEqual((await getJson('pvc', '--field-selector', 'metadata.name=named')).items.map((o: any) => o.metadata.name), ['named']);
    const bad = await kubectl('get', 'pvc', '--field-selector', 'status.phase=Bound');
    assert.match(bad.stderr, /field label not supported: status.phase/);
  });
});

describe('kube-root-ca.crt in every namespace', { timeout: 60_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apiserver-root-ca-'));
    server = await startApiServer({ port: 0, binder: false, kubeconfigOut: join(dir, 'kubeconfig'), logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const rootCa = (ns: string) => `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`;
  const holdsCa = (o: any) => o.data?.['ca.crt'] === server.caCertPem;

  test('the initial namespaces and a new one hold the server\'s CA', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      const { status, json } = await apiJson(server, 'GET', rootCa(ns));
      assert.equal(status, 200, ns);
      assert.deepEqual(json.data, { 'ca.crt': server.caCertPem });
    }
    await kubectlOk('create', 'namespace', 'team-a');
    const cm = await waitForObject(rootCa('team-a'), 'kube-root-ca.crt in team-a', holdsCa);
    assert.match(cm.metadata.annotations['kubernetes.io/description'], /^Contains a CA bundle that can be used to verify the kube-apiserver/);
    assert.match(await kubectlOk('get', 'configmap', '-n', 'team-a'), /^kube-root-ca.crt\s+1\s/m);
  });

  test('it is made again when deleted and put back when changed', async () => {
    const before = await getJson('configmap', 'kube-root-ca.crt', '-n', 'team-a');
    await kubectlOk('delete', 'configmap', 'kube-root-ca.crt', '-n', 'team-a');
    const recreated = await waitForObject(rootCa('team-a'), 'recreated', (o) => holdsCa(o) && o.metadata.uid !== before.metadata.uid);
    await kubectlOk('patch', 'configmap', 'kube-root-ca.crt', '-n', 'team-a', '-p', '{"data":{"ca.crt":"forged","extra":"x"}}');
    const reset = await waitForObject(rootCa('team-a'), 'reset', (o) => holdsCa(o) && Number(o.metadata.resourceVersion) > Number(recreated.metadata.resourceVersion) + 1);
    assert.deepEqual(reset.data, { 'ca.crt': server.caCertPem });
  });
});
