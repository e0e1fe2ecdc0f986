// TLS bootstrap on the dev control plane, with the simulated runtime: a node that has only a
// bootstrap kubeconfig (a bootstrap token) gets its client certificate by CSR and automatic
// approval, writes its kubeconfig, registers, renews the certificate before it expires, and
// is refused with a reason when its token is deleted or has expired. With manifests/rbac
// applied and the Node authorizer on, it may do its work and no more.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificatesV1Api, CoreV1Api, KubeConfig, type V1CertificateSigningRequest } from '@kubernetes/client-node';
import { pino } from 'pino';
import YAML from 'yaml';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import { defaultConfig } from '../../src/agent/config/agent-config.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import { CertificateRequestFailed } from '../../src/agent/certificates/csr-client.ts';
import { createCertificateRequest } from '../../src/tls/certificate-requests.ts';
import { simAgentConfig } from '../helpers/sim-agent-config.ts';
import { pollFor } from '../../src/world/wait.ts';

const silent = pino({ level: 'silent' });
const signingMs = 12_000;
let dir: string;
let apiServer: RunningApiServer;
let sim: SimRuntime;
let admin: KubeConfig;
const agents: RunningAgent[] = [];

const manifests = (file: string) => YAML.parseAllDocuments(readFileSync(new URL(`../../manifests/rbac/${file}`, import.meta.url), 'utf8')).map((d) => d.toJS());
const csrs = async () => (await admin.makeApiClient(CertificatesV1Api).listCertificateSigningRequest()).items;
const approved = (c: V1CertificateSigningRequest) => c.status?.conditions?.find((x) => x.type === 'Approved');

function nodeSetup(nodeName: string, ttlMs = 3600_000) {
  const nodeDir = join(dir, nodeName);
  mkdirSync(nodeDir, { recursive: true });
  writeFileSync(join(nodeDir, 'client-ca.crt'), apiServer.caCertPem);
  const { token, kubeconfigYaml } = apiServer.bootstrapKubeconfig(ttlMs);
  const bootstrapKubeconfig = join(dir, `${nodeName}-bootstrap.conf`);
  writeFileSync(bootstrapKubeconfig, kubeconfigYaml);
  const config = simAgentConfig(nodeDir, nodeName, sim.endpoint, {
    kubeconfig: join(nodeDir, 'kubelet.conf'), bootstrapKubeconfig, rotateCertificates: true,
    authorization: { ...defaultConfig.authorization, mode: 'AlwaysAllow' },
  });
  return { token, config };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tls-bootstrap-'));
  apiServer = await startApiServer({ port: 0, logger: silent, binder: false, defaultFieldValidation: 'Strict', clusterSigningDurationMs: signingMs });
  admin = apiServer.kubeConfig();
  apiServer.createObjects([...manifests('node-bootstrap.yaml'), ...manifests('node-rbac.yaml')]);
  sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
});

after(async () => {
  try {
    for (const a of agents) await a.stop();
  } finally {
    await sim?.stop();
    await apiServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a node with only a bootstrap token gets its certificate by CSR, registers, and renews it', async () => {
  const { token, config } = nodeSetup('boot-a');
  const agent = await startAgent(config, { logger: silent });
  agents.push(agent);
  const core = admin.makeApiClient(CoreV1Api);
  await pollFor(async () => (await core.readNode({ name: 'boot-a' }).catch(() => undefined)) ?? undefined, { what: 'node boot-a registered', timeoutMs: 15_000 });

  // The first CSR: filed by the bootstrap token's user, approved by the controller, issued.
  const first = (await csrs()).find((c) => c.spec.username === `system:bootstrap:${token.id}`);
  assert.ok(first, 'a CSR filed as the bootstrap token');
  assert.equal(first.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
  assert.deepEqual(first.spec.groups?.slice(0, 2), ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token']);
  assert.equal(approved(first)?.reason, 'AutoApproved');
  assert.match(first.metadata!.name!, /^node-csr-/);

  // The kubeconfig the node wrote names the certificate file in --cert-dir; the certificate is the node's.
  const written = YAML.parse(readFileSync(config.kubeconfig!, 'utf8'));
  const pem = written.users[0].user['client-certificate'];
  assert.equal(pem, join(config.rootDir, 'pki', 'kubelet-client-current.pem'));
  const cert = new X509Certificate(readFileSync(pem));
  assert.match(cert.subject, /CN=system:node:boot-a/);
  assert.match(cert.subject, /O=system:nodes/);
  const firstFile = realpathSync(pem);

  // Renewal, at 70-90% of the short lifetime: a CSR filed as the node itself, approved as a self-renewal.
  const renewal = await pollFor(async () => (await csrs()).find((c) => c.spec.username === 'system:node:boot-a' && c.status?.certificate), {
    what: 'a renewal CSR filed as system:node:boot-a and issued', timeoutMs: signingMs + 5_000, intervalMs: 200,
  });
  assert.match(approved(renewal)?.message ?? '', /self kubelet client certificate/);
  await pollFor(async () => realpathSync(pem) !== firstFile || undefined, { what: 'kubelet-client-current.pem replaced', timeoutMs: 5_000 });
  const renewed = new X509Certificate(readFileSync(pem));
  assert.ok(Date.parse(renewed.validTo) > Date.parse(cert.validTo), 'the new certificate outlives the old one');

  // After the first certificate has expired, the node still works: its lease is renewed with the new one.
  await pollFor(async () => (Date.now() > Date.parse(cert.validTo) + 1000) || undefined, { what: 'the first certificate expired', timeoutMs: signingMs + 5_000, intervalMs: 250 });
  const leases = admin.makeApiClient((await import('@kubernetes/client-node')).CoordinationV1Api);
  const renewTime = async () => new Date((await leases.readNamespacedLease({ namespace: 'kube-node-lease', name: 'boot-a' })).spec!.renewTime as unknown as string).getTime();
  const seen = await renewTime();
  await pollFor(async () => (await renewTime()) > seen || undefined, { what: 'the lease renewed after the first certificate expired', timeoutMs: 5_000 });
});

test('a bootstrapped node may do its work and no more', async () => {
  const { config } = nodeSetup('boot-b');
  const agent = await startAgent(config, { logger: silent });
  agents.push(agent);
  const node = new KubeConfig();
  node.loadFromFile(config.kubeconfig!);
  const core = node.makeApiClient(CoreV1Api);
  await pollFor(async () => (await core.readNode({ name: 'boot-b' }).catch(() => undefined)) ?? undefined, { what: 'node boot-b registered', timeoutMs: 15_000 });
  const code = (p: Promise<unknown>) => p.then(() => 200, (e: { code?: number }) => e.code);
  assert.equal(await code(core.listNamespacedSecret({ namespace: 'kube-system' })), 403, 'no Secret read beyond its pods');
  assert.equal(await code(core.patchNodeStatus({ name: 'boot-a', body: [{ op: 'add', path: '/metadata/labels/taken', value: 'by-boot-b' }] })), 403, 'no write to another node');
  const certificates = node.makeApiClient(CertificatesV1Api);
  const csrList = await certificates.listCertificateSigningRequest();
  const other = csrList.items.find((c) => c.spec.username?.startsWith('system:bootstrap:'))!;
  assert.equal(await code(certificates.replaceCertificateSigningRequestApproval({ name: other.metadata!.name!, body: other })), 403, 'a node may not approve CSRs');
  // A CSR for another node's name, filed by this node, is never approved automatically; one for
  // its own name, filed after it, is (the approver takes them in order, so by then it has decided both).
  const file = async (nodeName: string) => {
    const { csrPem } = await createCertificateRequest({ commonName: `system:node:${nodeName}`, organizations: ['system:nodes'] });
    return certificates.createCertificateSigningRequest({ body: {
      metadata: { generateName: 'csr-' },
      spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
    } });
  };
  const foreign = await file('boot-a');
  assert.equal(foreign.spec.username, 'system:node:boot-b', 'the requester is stamped from the credentials');
  const own = await file('boot-b');
  await pollFor(async () => approved(await certificates.readCertificateSigningRequest({ name: own.metadata!.name! })), { what: 'its own renewal CSR approved', timeoutMs: 5_000 });
  assert.equal(approved(await certificates.readCertificateSigningRequest({ name: foreign.metadata!.name! })), undefined);
});

test('a deleted bootstrap token is refused, and the agent says why', async () => {
  const { token, config } = nodeSetup('boot-c');
  await admin.makeApiClient(CoreV1Api).deleteNamespacedSecret({ namespace: 'kube-system', name: `bootstrap-token-${token.id}` });
  await assert.rejects(startAgent(config, { logger: silent }), (err: unknown) => {
    assert.ok(err instanceof CertificateRequestFailed, String(err));
    assert.equal(err.reason, 'Unauthorized');
    assert.match(err.message, /401 Unauthorized.*bootstrap token was deleted, has expired or is wrong/);
    return true;
  });
});

test('an expired bootstrap token is refused, and the agent says why', async () => {
  const { config } = nodeSetup('boot-d', 1);
  await assert.rejects(startAgent(config, { logger: silent }), /TLS bootstrap refused: .*401 Unauthorized/);
});
