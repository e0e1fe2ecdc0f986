// Authentication and authorization of the dev API server as kube-apiserver answers them,
// through the machine's kubectl and curl: anonymous callers, forged credentials, a service
// account's token before and after RBAC grants it, a node's credentials under the Node
// authorizer and NodeRestriction, and the reviews kubelets ask for.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { pino } from 'pino';
import YAML from 'yaml';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { createCertificateAuthority } from '../../src/tls/certificates.ts';
import { apiFetch, apiJson } from '../helpers/api-client.ts';

interface Run { code: number; stdout: string; stderr: string }

let server: RunningApiServer;
let dir: string;

function run(file: string, args: string[], kubeconfig = join(dir, 'admin.kubeconfig')): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

const kubectl = (...args: string[]) => run('/usr/bin/kubectl', args);
const kubectlWith = (kubeconfig: string, ...args: string[]) => run('/usr/bin/kubectl', args, kubeconfig);

async function kubectlOk(...args: string[]): Promise<string> {
  const r = await kubectl(...args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** curl as kubectl users would: trusting the cluster CA, with whatever extra flags; the status and parsed body. */
async function curl(path: string, ...flags: string[]): Promise<{ status: number; body: any }> {
  const r = await run('curl', ['-s', '--cacert', join(dir, 'ca.crt'), '-w', '\n%{http_code}', ...flags, `${server.url}${path}`]);
  const nl = r.stdout.lastIndexOf('\n');
  const text = r.stdout.slice(0, nl);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text answers (/healthz) stay text
  }
  return { status: Number(r.stdout.slice(nl + 1)), body };
}

/** A kubeconfig that trusts the cluster CA and authenticates with a bearer token only. */
async function tokenKubeconfig(name: string, token: string): Promise<string> {
  const admin = YAML.parse(server.kubeconfigYaml);
  const file = join(dir, `${name}.kubeconfig`);
  await writeFile(file, YAML.stringify({
    ...admin,
    users: [{ name, user: { token } }],
    contexts: [{ name: 'ctx', context: { cluster: admin.clusters[0].name, user: name, namespace: 'default' } }],
    'current-context': 'ctx',
  }));
  return file;
}

describe('who may do what on the dev API server', { timeout: 120_000 }, () => {
  let aliceToken: string;
  let alice: string;
  let node: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apiserver-auth-'));
    server = await startApiServer({ port: 0, binder: false, kubeconfigOut: join(dir, 'admin.kubeconfig'), logger: pino({ level: 'silent' }) });
    await writeFile(join(dir, 'ca.crt'), server.caCertPem);
    node = join(dir, 'node-n1.kubeconfig');
    await writeFile(node, await server.nodeKubeconfig('n1'));
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('anonymous callers reach health and version only', async () => {
    const pods = await curl('/api/v1/pods');
    assert.equal(pods.status, 403);
    assert.deepEqual(pods.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
      message: 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" at the cluster scope',
      details: { kind: 'pods' },
    });
    const api = await curl('/api');
    assert.equal(api.status, 403);
    assert.equal(api.body.message, 'forbidden: User "system:anonymous" cannot get path "/api"');
    assert.deepEqual(api.body.details, {});
    for (const path of ['/healthz', '/livez', '/readyz']) assert.deepEqual(await curl(path), { status: 200, body: 'ok' });
    const version = await curl('/version');
    assert.equal(version.status, 200);
    assert.equal(version.body.major, '1');
  });

  test('a forged bearer token and a certificate from another CA are 401 Unauthorized', async () => {
    const unauthorized = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
    assert.deepEqual(await curl('/api/v1/pods', '-H', 'Authorization: Bearer not-a-real-token'), { status: 401, body: unauthorized });
    // Signed by a key the server never had, with every claim it would write.
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'default', uid: 'x' } } })
      .setProtectedHeader({ alg: 'ES256' }).setIssuer('https://kubernetes.default.svc.cluster.local').setSubject('system:serviceaccount:default:default')
      .setAudience('https://kubernetes.default.svc.cluster.local').setIssuedAt().setExpirationTime('1h').sign(privateKey);
    assert.deepEqual(await curl('/api/v1/pods', '-H', `Authorization: Bearer ${forged}`), { status: 401, body: unauthorized });
    const kubectlForged = await kubectlWith(await tokenKubeconfig('forger', forged), 'get', 'pods');
    assert.equal(kubectlForged.code, 1);
    // kubectl's words for a 401, as against kube-apiserver.
    assert.match(kubectlForged.stderr, /error: You must be logged in to the server/);

    const otherCa = await createCertificateAuthority('not-the-cluster-ca');
    const stranger = await otherCa.issue({ commonName: 'kubernetes-admin', organizations: ['system:masters'], usages: ['clientAuth'] });
    await writeFile(join(dir, 'stranger.crt'), stranger.certPem);
    await writeFile(join(dir, 'stranger.key'), stranger.keyPem);
    assert.deepEqual(await curl('/api/v1/pods', '--cert', join(dir, 'stranger.crt'), '--key', join(dir, 'stranger.key')), { status: 401, body: unauthorized });
  });

  test("a service account's token is forbidden until RBAC grants it, and can-i and whoami tell", async () => {
    assert.match(await kubectlOk('create', 'serviceaccount', 'alice'), /serviceaccount\/alice created/);
    aliceToken = (await kubectlOk('create', 'token', 'alice', '--duration=20m')).trim();
    const claims = JSON.parse(Buffer.from(aliceToken.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, 'system:serviceaccount:default:alice');
    assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(claims.exp - claims.iat, 1200);
    alice = await tokenKubeconfig('alice', aliceToken);

    const denied = await kubectlWith(alice, 'get', 'pods');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr,
      /Error from server \(Forbidden\): pods is forbidden: User "system:serviceaccount:default:alice" cannot list resource "pods" in API group "" in the namespace "default"/);
    const cannot = await kubectlWith(alice, 'auth', 'can-i', 'list', 'pods');
    assert.equal(cannot.stdout.trim(), 'no');
    assert.equal(cannot.code, 1);

    await kubectlOk('create', 'rolebinding', 'alice-view', '--clusterrole=view', '--serviceaccount=default:alice');
    const allowed = await kubectlWith(alice, 'get', 'pods');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stderr, /No resources found in default namespace/);
    const can = await kubectlWith(alice, 'auth', 'can-i', 'list', 'pods');
    assert.equal(can.stdout.trim(), 'yes');
    // view reads, it does not write; and only in the namespace it is bound in.
    assert.equal((await kubectlWith(alice, 'auth', 'can-i', 'create', 'pods')).stdout.trim(), 'no');
    assert.equal((await kubectlWith(alice, 'auth', 'can-i', 'list', 'pods', '-n', 'kube-system')).stdout.trim(), 'no');

    const whoami = JSON.parse((await kubectlWith(alice, 'auth', 'whoami', '-o', 'json')).stdout);
    assert.equal(whoami.kind, 'SelfSubjectReview');
    assert.equal(whoami.status.userInfo.username, 'system:serviceaccount:default:alice');
    assert.deepEqual(whoami.status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    assert.match(whoami.status.userInfo.extra['authentication.kubernetes.io/credential-id'][0], /^JTI=/);
  });

  test('a token stops working when its service account is deleted', async () => {
    await kubectlOk('create', 'serviceaccount', 'brief');
    const token = (await kubectlOk('create', 'token', 'brief')).trim();
    assert.equal((await curl('/version', '-H', `Authorization: Bearer ${token}`)).status, 200);
    await kubectlOk('delete', 'serviceaccount', 'brief');
    assert.equal((await curl('/version', '-H', `Authorization: Bearer ${token}`)).status, 401);
    const review = await apiJson(server, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token } });
    assert.deepEqual(review.json.status, { authenticated: false, user: {}, error: '[invalid bearer token, serviceaccounts "brief" not found]' });
  });

  test("a node's credentials read a Secret only when a pod bound to that node uses it", async () => {
    await kubectlOk('create', 'secret', 'generic', 'used', '--from-literal=k=v');
    await kubectlOk('create', 'secret', 'generic', 'unused', '--from-literal=k=v');
    await kubectlOk('create', 'configmap', 'settings', '--from-literal=k=v');
    const { status } = await apiJson(server, 'POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'on-n1' },
      spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox', env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'used', key: 'k' } } }] }] },
    });
    assert.equal(status, 201);

    const got = await kubectlWith(node, 'get', 'secret', 'used', '-o', 'jsonpath={.data.k}');
    assert.equal(got.code, 0, got.stderr);
    assert.equal(Buffer.from(got.stdout, 'base64').toString(), 'v');
    const other = await kubectlWith(node, 'get', 'secret', 'unused');
    assert.match(other.stderr,
      /Error from server \(Forbidden\): secrets "unused" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'n1' and this object/);
    const list = await kubectlWith(node, 'get', 'secrets');
    assert.match(list.stderr, /Error from server \(Forbidden\): secrets is forbidden: User "system:node:n1" cannot list resource "secrets" in API group "" in the namespace "default"/);
    const configmap = await kubectlWith(node, 'get', 'configmap', 'settings');
    assert.match(configmap.stderr, /no relationship found between node 'n1' and this object/);
  });

  test('NodeRestriction: a node changes its own Node and pods bound to it, nothing else', async () => {
    const created = await apiJson(server, 'POST', '/api/v1/nodes', { metadata: { name: 'n1' } }, await nodeCertificate('n1'));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal((await apiJson(server, 'POST', '/api/v1/nodes', { metadata: { name: 'n2' } })).status, 201);

    // Reading another Node is the Node authorizer's refusal; changing it, NodeRestriction's.
    const readOther = await kubectlWith(node, 'label', 'node', 'n2', 'mine=yes');
    assert.match(readOther.stderr, /Error from server \(Forbidden\): nodes "n2" is forbidden: User "system:node:n1" cannot get resource "nodes"/);
    const patchOther = await apiFetchJson('PATCH', '/api/v1/nodes/n2', { metadata: { labels: { mine: 'yes' } } }, await nodeCertificate('n1'));
    assert.equal(patchOther.status, 403);
    assert.equal(patchOther.json.message, 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    const labelOwn = await kubectlWith(node, 'label', 'node', 'n1', 'mine=yes');
    assert.equal(labelOwn.code, 0, labelOwn.stderr);

    const pod = await kubectlWith(node, 'run', 'sneaky', '--image=busybox', '--restart=Never', '--overrides={"spec":{"nodeName":"n1"}}');
    assert.match(pod.stderr, /pods "sneaky" is forbidden: pod does not have "kubernetes.io\/config.mirror" annotation, node "n1" can only create mirror pods/);
    const deleteOther = await apiJson(server, 'DELETE', '/api/v1/namespaces/default/pods/elsewhere', undefined, await nodeCertificate('n1'));
    assert.equal(deleteOther.status, 404);
    assert.equal((await apiJson(server, 'POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'elsewhere' }, spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'busybox' }] } })).status, 201);
    const deleteForeign = await apiJson(server, 'DELETE', '/api/v1/namespaces/default/pods/elsewhere', undefined, await nodeCertificate('n1'));
    assert.equal(deleteForeign.status, 403);
    assert.equal(deleteForeign.json.message, 'pods "elsewhere" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself');
  });

  test('kubectl create token binds to a pod of the same service account, for at least ten minutes', async () => {
    const short = await kubectl('create', 'token', 'default', '--duration=1m');
    assert.match(short.stderr, /TokenRequest.authentication.k8s.io "default" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/);
    const wrongAccount = await kubectl('create', 'token', 'alice', '--bound-object-kind=Pod', '--bound-object-name=on-n1');
    assert.match(wrongAccount.stderr, /cannot bind token for serviceaccount "alice" to pod running with different serviceaccount name/);
    const token = (await kubectlOk('create', 'token', 'default', '--bound-object-kind=Pod', '--bound-object-name=on-n1')).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())['kubernetes.io'];
    const pod = JSON.parse(await kubectlOk('get', 'pod', 'on-n1', '-o', 'json'));
    const n1 = JSON.parse(await kubectlOk('get', 'node', 'n1', '-o', 'json'));
    assert.deepEqual(claims.pod, { name: 'on-n1', uid: pod.metadata.uid });
    assert.deepEqual(claims.node, { name: 'n1', uid: n1.metadata.uid });
    assert.equal((await curl('/version', '-H', `Authorization: Bearer ${token}`)).status, 200);
    await kubectlOk('delete', 'pod', 'on-n1', '--grace-period=0', '--force');
    assert.equal((await curl('/version', '-H', `Authorization: Bearer ${token}`)).status, 401);
  });

  test('TokenReview and SubjectAccessReview answer a node the way kubelets ask', async () => {
    const n1 = await nodeCertificate('n1');
    const review = await apiJson(server, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: aliceToken } }, n1);
    assert.equal(review.status, 201, JSON.stringify(review.json));
    assert.equal(review.json.kind, 'TokenReview');
    assert.equal(review.json.spec.token, aliceToken);
    assert.equal(review.json.status.authenticated, true);
    assert.equal(review.json.status.user.username, 'system:serviceaccount:default:alice');
    assert.deepEqual(review.json.status.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    assert.deepEqual(review.json.status.audiences, ['https://kubernetes.default.svc.cluster.local']);

    const otherAudience = await apiJson(server, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', { spec: { token: aliceToken, audiences: ['vault'] } }, n1);
    assert.deepEqual(otherAudience.json.status, {
      authenticated: false, user: {},
      error: '[invalid bearer token, token audiences ["https://kubernetes.default.svc.cluster.local"] is invalid for the target audiences ["vault"]]',
    });

    const sar = (user: string, groups: string[], subresource: string) => apiJson(server, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
      spec: { user, groups, resourceAttributes: { verb: 'get', resource: 'nodes', subresource, name: 'n1' } },
    }, n1);
    const aliceAsks = await sar('system:serviceaccount:default:alice', ['system:serviceaccounts', 'system:authenticated'], 'proxy');
    assert.equal(aliceAsks.status, 201, JSON.stringify(aliceAsks.json));
    assert.equal(aliceAsks.json.status.allowed, false);
    const serverAsks = await sar('kube-apiserver-kubelet-client', ['system:authenticated'], 'proxy');
    assert.equal(serverAsks.json.status.allowed, true);
    assert.match(serverAsks.json.status.reason, /system:kubelet-api-admin/);

    const anonymousReview = await curl('/apis/authentication.k8s.io/v1/tokenreviews', '-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"spec":{"token":"x"}}');
    assert.equal(anonymousReview.status, 403);
    assert.equal(anonymousReview.body.message,
      'tokenreviews.authentication.k8s.io is forbidden: User "system:anonymous" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope');
    const invalidSar = await apiJson(server, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { spec: { user: 'x' } });
    assert.equal(invalidSar.status, 422);
  });
});

const nodeCertificates = new Map<string, { certPem: string; keyPem: string }>();
async function nodeCertificate(name: string) {
  let cert = nodeCertificates.get(name);
  if (!cert) nodeCertificates.set(name, (cert = await server.issueClientCertificate(`system:node:${name}`, ['system:nodes'])));
  return cert;
}

async function apiFetchJson(method: string, path: string, body: unknown, as: { certPem: string; keyPem: string }) {
  const res = await apiFetch(server, path, { method, headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify(body) }, as);
  return { status: res.status, json: await res.json() as any };
}
