// Service accounts on the dev API server, through the machine's kubectl: the ServiceAccount
// admission step every pod create passes (the kube-api-access projected volume and its mounts,
// opting out, unknown accounts, mirror pods), and what a node's own credentials reach for the
// volumes of the pods bound to it: their claims and volumes, kube-root-ca.crt, and bound
// tokens that stop working with the pod.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { pollFor } from '../../src/world/wait.ts';
import { apiJson, type ClientCertificate } from '../helpers/api-client.ts';

interface Run { code: number; stdout: string; stderr: string }

let server: RunningApiServer;
let dir: string;

function kubectlAs(kubeconfig: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile('/usr/bin/kubectl', args, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

const kubectl = (...args: string[]) => kubectlAs(join(dir, 'kubeconfig'), ...args);

async function kubectlOk(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function createPod(manifest: Record<string, unknown>): Promise<any> {
  const file = join(dir, 'pod.json');
  await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...manifest }));
  await kubectlOk('create', '-f', file);
  const name = (manifest.metadata as { name: string }).name;
  return JSON.parse(await kubectlOk('get', 'pod', name, '-o', 'json'));
}

const container = (name: string, extra: Record<string, unknown> = {}) => ({ name, image: 'busybox', command: ['sleep', '3600'], ...extra });
const mountPath = '/var/run/secrets/kubernetes.io/serviceaccount';

describe('ServiceAccount admission on pod create', { timeout: 120_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apiserver-sa-'));
    server = await startApiServer({ port: 0, binder: false, kubeconfigOut: join(dir, 'kubeconfig'), logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a pod runs as "default" and gets the kube-api-access volume, mounted read-only in every container', async () => {
    const pod = await createPod({
      metadata: { name: 'web' },
      spec: {
        initContainers: [container('init')],
        containers: [container('app'), container('own', { volumeMounts: [{ name: 'mine', mountPath }] })],
        volumes: [{ name: 'mine', emptyDir: {} }],
      },
    });
    assert.equal(pod.spec.serviceAccountName, 'default');
    assert.equal(pod.spec.serviceAccount, 'default');
    const tokenVolumes = pod.spec.volumes.filter((v: any) => v.name.startsWith('kube-api-access-'));
    assert.equal(tokenVolumes.length, 1);
    const [volume] = tokenVolumes;
    assert.match(volume.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(volume.projected, {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    const tokenMount = { name: volume.name, readOnly: true, mountPath };
    assert.deepEqual(pod.spec.initContainers[0].volumeMounts, [tokenMount]);
    assert.deepEqual(pod.spec.containers[0].volumeMounts, [tokenMount]);
    // A container with its own mount at the path keeps it.
    assert.deepEqual(pod.spec.containers[1].volumeMounts, [{ name: 'mine', mountPath }]);
    // Other volumes get kube's defaults.
    assert.deepEqual(pod.spec.volumes.find((v: any) => v.name === 'mine'), { name: 'mine', emptyDir: {} });
  });

  test('automountServiceAccountToken: false on the pod, or on its account when the pod says nothing, means no volume', async () => {
    const optedOut = await createPod({ metadata: { name: 'quiet' }, spec: { automountServiceAccountToken: false, containers: [container('app')] } });
    assert.equal(optedOut.spec.volumes, undefined);
    assert.equal(optedOut.spec.containers[0].volumeMounts, undefined);
    assert.equal(optedOut.spec.serviceAccountName, 'default');

    await kubectlOk('create', 'serviceaccount', 'robot');
    await kubectlOk('patch', 'serviceaccount', 'robot', '-p', '{"automountServiceAccountToken":false}');
    const byAccount = await createPod({ metadata: { name: 'robot-pod' }, spec: { serviceAccountName: 'robot', containers: [container('app')] } });
    assert.equal(byAccount.spec.volumes, undefined);
    const podWins = await createPod({ metadata: { name: 'robot-wants' }, spec: { serviceAccountName: 'robot', automountServiceAccountToken: true, containers: [container('app')] } });
    assert.equal(podWins.spec.volumes.length, 1);
    assert.equal(podWins.spec.containers[0].volumeMounts[0].mountPath, mountPath);
  });

  test('a pod naming a service account that does not exist is refused as kube refuses it', async () => {
    const r = await kubectl('run', 'ghost', '--image=busybox', '--overrides={"spec":{"serviceAccountName":"nobody"}}');
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'Error from server (Forbidden): pods "ghost" is forbidden: error looking up service account default/nobody: serviceaccount "nobody" not found');
    assert.match((await kubectl('get', 'pod', 'ghost')).stderr, /NotFound/);
  });

  test('mirror pods are left as made, and may not reference an account, a secret or a token projection', async () => {
    const mirror = { 'kubernetes.io/config.mirror': 'hash' };
    const made = await apiJson(server, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'static-web', annotations: mirror }, spec: { containers: [container('app')] } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    assert.equal(made.json.spec.serviceAccountName, undefined);
    assert.equal(made.json.spec.volumes, undefined);
    const refusals: Array<[Record<string, unknown>, string]> = [
      [{ serviceAccountName: 'default' }, 'a mirror pod may not reference service accounts'],
      [{ volumes: [{ name: 's', secret: { secretName: 'x' } }] }, 'a mirror pod may not reference secrets'],
      [{ volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }] }, 'a mirror pod may not use ServiceAccountToken volume projections'],
    ];
    for (const [spec, why] of refusals) {
      const r = await apiJson(server, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'static-bad', annotations: mirror }, spec: { containers: [container('app')], ...spec } });
      assert.equal(r.status, 403);
      assert.equal(r.json.message, `pods "static-bad" is forbidden: ${why}`);
    }
  });
});

describe("a node's credentials and the volumes of its pods", { timeout: 120_000 }, () => {
  let n1: ClientCertificate;
  let n2: ClientCertificate;
  let n1Kubeconfig: string;
  let n2Kubeconfig: string;
  let pod: any;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apiserver-sa-node-'));
    server = await startApiServer({ port: 0, binder: false, kubeconfigOut: join(dir, 'kubeconfig'), logger: pino({ level: 'silent' }) });
    n1 = await server.issueClientCertificate('system:node:n1', ['system:nodes']);
    n2 = await server.issueClientCertificate('system:node:n2', ['system:nodes']);
    n1Kubeconfig = join(dir, 'n1.kubeconfig');
    n2Kubeconfig = join(dir, 'n2.kubeconfig');
    await writeFile(n1Kubeconfig, await server.nodeKubeconfig('n1'));
    await writeFile(n2Kubeconfig, await server.nodeKubeconfig('n2'));
    for (const node of ['n1', 'n2']) assert.equal((await apiJson(server, 'POST', '/api/v1/nodes', { metadata: { name: node } })).status, 201);

    await apiJson(server, 'POST', '/api/v1/persistentvolumes', {
      metadata: { name: 'pv-data' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/srv/data' } },
    });
    await apiJson(server, 'POST', '/api/v1/namespaces/default/persistentvolumeclaims', {
      metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    await pollFor(async () => ((await apiJson(server, 'GET', '/api/v1/namespaces/default/persistentvolumeclaims/data')).json.status?.phase === 'Bound' || undefined),
      { what: 'claim bound', timeoutMs: 10_000, intervalMs: 20 });
    const created = await apiJson(server, 'POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'db' },
      spec: { nodeName: 'n1', containers: [container('app')], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    pod = created.json;
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const tokenRequest = (as: ClientCertificate, podName: string, uid: string) => apiJson(server, 'POST', '/api/v1/namespaces/default/serviceaccounts/default/token', {
    apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest',
    spec: { audiences: [], expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: podName, uid } },
  }, as);

  test('the node its pod is bound to reads the pod\'s claim, volume and kube-root-ca.crt; another node does not', async () => {
    for (const args of [['pvc', 'data'], ['pv', 'pv-data'], ['configmap', 'kube-root-ca.crt']]) {
      const mine = await kubectlAs(n1Kubeconfig, 'get', ...args, '-o', 'name');
      assert.equal(mine.code, 0, `n1 get ${args.join(' ')}: ${mine.stderr}`);
      const theirs = await kubectlAs(n2Kubeconfig, 'get', ...args);
      assert.match(theirs.stderr, /is forbidden: User "system:node:n2" cannot get resource .*: no relationship found between node 'n2' and this object/, args.join(' '));
    }
    // The single-object list+watch the agent keeps on kube-root-ca.crt.
    const listed = await apiJson(server, 'GET', '/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dkube-root-ca.crt', undefined, n1);
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json.items.map((c: any) => c.data['ca.crt']), [server.caCertPem]);
    assert.equal((await apiJson(server, 'GET', '/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dkube-root-ca.crt', undefined, n2)).status, 403);
  });

  test('the node makes tokens bound to its own pods only; a bound token stops authenticating once the pod is deleted', async () => {
    const foreign = await tokenRequest(n2, 'db', pod.metadata.uid);
    assert.equal(foreign.status, 403);
    assert.match(foreign.json.message, /no relationship found between node 'n2' and this object/);

    const issued = await tokenRequest(n1, 'db', pod.metadata.uid);
    assert.equal(issued.status, 201, JSON.stringify(issued.json));
    const token = issued.json.status.token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims.exp - claims.iat, 3607);
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'db', uid: pod.metadata.uid });
    const whoami = await apiJson(server, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, { token });
    assert.equal(whoami.status, 201, JSON.stringify(whoami.json));
    assert.equal(whoami.json.status.userInfo.username, 'system:serviceaccount:default:default');

    // A pod on n2 with the same account: n1 reaches the account through its own pod, NodeRestriction stops the binding.
    const other = await apiJson(server, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'web-n2' }, spec: { nodeName: 'n2', containers: [container('app')] } });
    const crossNode = await tokenRequest(n1, 'web-n2', other.json.metadata.uid);
    assert.equal(crossNode.status, 403);
    assert.equal(crossNode.json.message, 'serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled on a different node');

    await kubectlOk('delete', 'pod', 'db', '--grace-period=0', '--force');
    const after = await apiJson(server, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, { token });
    assert.equal(after.status, 401);
    // And with the pod gone, the node reaches its claim no more.
    assert.match((await kubectlAs(n1Kubeconfig, 'get', 'pvc', 'data')).stderr, /no relationship found between node 'n1' and this object/);
  });
});
