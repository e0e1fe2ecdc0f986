// The dev control plane against the machine's real kubectl (default flags), as a user drives it.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { apiFetch } from '../helpers/api-client.ts';

const kubectlPath = '/usr/bin/kubectl';

interface Run { code: number; stdout: string; stderr: string }

let server: RunningApiServer;
let dir: string;

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(kubectlPath, args, { env: kubectlEnv(), timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function kubectlOk(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function kubectlEnv(): NodeJS.ProcessEnv {
  // A private HOME keeps kubectl's discovery cache per test run.
  return { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function apiRequest(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await apiFetch(server, path, {
    method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

function podManifest(labels: Record<string, string>): string {
  const labelLines = Object.entries(labels).map(([k, v]) => `    ${k}: ${v}`).join('\n');
  return `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
${labelLines}
spec:
  containers:
  - name: app
    image: registry.local/busybox:1.36
    command: ["sleep", "3600"]
`;
}

const readyNode = `apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels:
    kubernetes.io/hostname: node-a
status:
  conditions:
  - type: Ready
    status: "True"
    reason: KubeletReady
    message: kubelet is posting ready status
  addresses:
  - type: InternalIP
    address: 10.1.2.3
  nodeInfo:
    kubeletVersion: v1.32.0
`;

describe('dev API server driven by kubectl', { timeout: 120_000 }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apiserver-kubectl-'));
    server = await startApiServer({ port: 0, kubeconfigOut: join(dir, 'kubeconfig'), logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('apply creates a pod, and a second apply with a changed label updates it', async () => {
    await writeFile(join(dir, 'pod.yaml'), podManifest({ app: 'web' }));
    assert.match(await kubectlOk('apply', '-f', join(dir, 'pod.yaml')), /pod\/web created/);
    await writeFile(join(dir, 'pod.yaml'), podManifest({ app: 'web', tier: 'front' }));
    const second = await kubectl('apply', '-f', join(dir, 'pod.yaml'));
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /pod\/web configured/);
    assert.equal(second.stderr, '');
    const pod = JSON.parse(await kubectlOk('get', 'pod', 'web', '-o', 'json'));
    assert.deepEqual(pod.metadata.labels, { app: 'web', tier: 'front' });
    assert.equal(pod.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(pod.spec.restartPolicy, 'Always');
    assert.equal(pod.status.phase, 'Pending');
    assert.ok(pod.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'].includes('"tier":"front"'));
  });

  test('a field the type does not have: refused under kubectl\'s strict validation, a warning under --validate=warn', async () => {
    const manifest = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: typo\nspec:\n  containers:\n  - name: a\n    image: busybox:1.36\n    imagePullPolcy: Always\n';
    await writeFile(join(dir, 'typo.yaml'), manifest);
    const strict = await kubectl('apply', '-f', join(dir, 'typo.yaml'));
    assert.notEqual(strict.code, 0);
    assert.match(strict.stderr, /Error from server \(BadRequest\): error when creating ".*typo.yaml": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers\[0\].imagePullPolcy"/);
    const warned = await kubectl('apply', '--validate=warn', '-f', join(dir, 'typo.yaml'));
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: unknown field "spec.containers\[0\].imagePullPolcy"/);
    assert.match(warned.stdout, /pod\/typo created/);
    await kubectlOk('delete', 'pod', 'typo', '--grace-period=0');
  });

  test('get pods -o wide shows the columns kube-apiserver prints', async () => {
    const out = await kubectlOk('get', 'pods', '-o', 'wide');
    const [header, row] = out.trimEnd().split('\n');
    assert.deepEqual(header.split(/\s{2,}/), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    assert.match(row, /^web\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/);
  });

  test('get pods --watch prints the pod, then its change', async () => {
    const watcher = spawn(kubectlPath, ['get', 'pods', '--watch'], { env: kubectlEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    watcher.stdout.on('data', (d) => (output += d));
    try {
      await waitFor('the initial row', async () => (/^web\s/m.test(output) ? true : undefined));
      await kubectlOk('annotate', 'pod', 'web', 'watched=yes');
      await waitFor('a second row for the change', async () => ((output.match(/^web\s/gm) ?? []).length >= 2 ? true : undefined));
      assert.match(output.split('\n')[0], /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    } finally {
      watcher.kill();
    }
  });

  test('describe pod shows its details', async () => {
    const out = await kubectlOk('describe', 'pod', 'web');
    assert.match(out, /^Name:\s+web$/m);
    assert.match(out, /^Namespace:\s+default$/m);
    assert.match(out, /^Status:\s+Pending$/m);
    assert.match(out, /tier=front/);
    assert.match(out, /Image:\s+registry.local\/busybox:1.36/);
  });

  test('label and annotate change the pod', async () => {
    assert.match(await kubectlOk('label', 'pod', 'web', 'color=blue'), /pod\/web labeled/);
    assert.match(await kubectlOk('annotate', 'pod', 'web', 'owner=team-a'), /pod\/web annotated/);
    const pod = JSON.parse(await kubectlOk('get', 'pod', 'web', '-o', 'json'));
    assert.equal(pod.metadata.labels.color, 'blue');
    assert.equal(pod.metadata.annotations.owner, 'team-a');
  });

  test('label selectors filter pods', async () => {
    assert.match(await kubectlOk('get', 'pods', '-l', 'color=blue,tier in (front,back)', '-o', 'name'), /^pod\/web$/m);
    const none = await kubectl('get', 'pods', '-l', 'color!=blue');
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /No resources found in default namespace/);
  });

  test('replace with a stale resourceVersion is a Conflict', async () => {
    const stale = await kubectlOk('get', 'pod', 'web', '-o', 'yaml');
    await kubectlOk('label', 'pod', 'web', 'bump=1');
    await writeFile(join(dir, 'stale.yaml'), stale);
    const r = await kubectl('replace', '-f', join(dir, 'stale.yaml'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error from server \(Conflict\).*the object has been modified/);
  });

  test('the binder binds a waiting pod once a node is Ready, and kubectl run pods at once', async () => {
    assert.equal(JSON.parse(await kubectlOk('get', 'pod', 'web', '-o', 'json')).spec.nodeName, undefined);
    await writeFile(join(dir, 'node.yaml'), readyNode);
    await kubectlOk('create', '-f', join(dir, 'node.yaml'));
    const nodes = await kubectlOk('get', 'nodes');
    assert.match(nodes, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/m);
    assert.match(nodes, /^node-a\s+Ready\s+<none>\s+\d+s\s+v1.32.0$/m);
    await waitFor('web bound to node-a', async () => ((await kubectlOk('get', 'pod', 'web', '-o', 'jsonpath={.spec.nodeName}')) === 'node-a' ? true : undefined));

    assert.match(await kubectlOk('run', 'runner', '--image=busybox', '--restart=Never', '--', 'sleep', '60'), /pod\/runner created/);
    await waitFor('runner bound to node-a', async () => ((await kubectlOk('get', 'pod', 'runner', '-o', 'jsonpath={.spec.nodeName}')) === 'node-a' ? true : undefined));
    const pod = JSON.parse(await kubectlOk('get', 'pod', 'runner', '-o', 'json'));
    assert.equal(pod.spec.containers[0].imagePullPolicy, 'Always');
    assert.ok(pod.status.conditions.some((c: any) => c.type === 'PodScheduled' && c.status === 'True'));
  });

  test('field selectors on spec.nodeName', async () => {
    const on = await kubectlOk('get', 'pods', '--field-selector', 'spec.nodeName=node-a', '-o', 'name');
    assert.deepEqual(on.trim().split('\n').sort(), ['pod/runner', 'pod/web']);
    const off = await kubectl('get', 'pods', '--field-selector', 'spec.nodeName=elsewhere', '-o', 'name');
    assert.equal(off.code, 0);
    assert.equal(off.stdout, '');
  });

  test('delete of a bound pod is graceful until the node deletes it with grace 0', async () => {
    const before = JSON.parse(await kubectlOk('get', 'pod', 'runner', '-o', 'json'));
    assert.match(await kubectlOk('delete', 'pod', 'runner', '--wait=false'), /pod "runner" deleted/);
    const pending = JSON.parse(await kubectlOk('get', 'pod', 'runner', '-o', 'json'));
    assert.ok(pending.metadata.deletionTimestamp);
    assert.equal(pending.metadata.deletionGracePeriodSeconds, 30);
    assert.match(await kubectlOk('get', 'pod', 'runner'), /Terminating/);

    const wrongUid = await apiRequest('DELETE', '/api/v1/namespaces/default/pods/runner',
      { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: 'not-the-uid' } });
    assert.equal(wrongUid.status, 409);
    assert.equal(wrongUid.json.reason, 'Conflict');
    const right = await apiRequest('DELETE', '/api/v1/namespaces/default/pods/runner',
      { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: before.metadata.uid } });
    assert.equal(right.status, 200);
    const gone = await kubectl('get', 'pod', 'runner');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /Error from server \(NotFound\): pods "runner" not found/);
  });

  test('create namespace, configmap and generic secret', async () => {
    assert.match(await kubectlOk('create', 'namespace', 'team'), /namespace\/team created/);
    assert.match(await kubectlOk('create', 'configmap', 'settings', '-n', 'team', '--from-literal=mode=dev'), /configmap\/settings created/);
    assert.match(await kubectlOk('create', 'secret', 'generic', 'creds', '-n', 'team', '--from-literal=password=s3cret'), /secret\/creds created/);
    const secret = JSON.parse(await kubectlOk('get', 'secret', 'creds', '-n', 'team', '-o', 'json'));
    assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 's3cret');
    assert.equal(secret.type, 'Opaque');
    const listing = await kubectlOk('get', 'configmaps,secrets,serviceaccounts', '-n', 'team');
    assert.match(listing, /^configmap\/settings\s+1\s+/m);
    assert.match(listing, /^secret\/creds\s+Opaque\s+1\s+/m);
    assert.match(listing, /^serviceaccount\/default\s+0\s+/m);
    const dup = await kubectl('create', 'namespace', 'team');
    assert.match(dup.stderr, /Error from server \(AlreadyExists\): namespaces "team" already exists/);
  });

  test('api-resources lists the served kinds with short names', async () => {
    const out = await kubectlOk('api-resources');
    assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(out, /^nodes\s+no\s+v1\s+false\s+Node$/m);
    assert.match(out, /^leases\s+coordination.k8s.io\/v1\s+true\s+Lease$/m);
    assert.match(out, /^runtimeclasses\s+node.k8s.io\/v1\s+false\s+RuntimeClass$/m);
    assert.match(out, /^events\s+ev\s+events.k8s.io\/v1\s+true\s+Event$/m);
  });
});
