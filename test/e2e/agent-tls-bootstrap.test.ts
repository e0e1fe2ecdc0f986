// A fresh node joins the dev control plane as kubelets join clusters: manifests/rbac applied
// with kubectl, the agent given only a bootstrap kubeconfig (a bootstrap token). It files a
// CSR, is approved automatically, registers, runs a pod on containerd, renews its short-lived
// certificate before it expires (and keeps working after the first one has), and a node whose
// token was deleted or has expired is refused at start, saying why.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'node:test';
import { connect, type PeerCertificate } from 'node:tls';
import { pollFor, waitFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

const signingMs = 30_000;
const agentBin = resolve(import.meta.dirname, '..', '..', 'bin', 'mini-kubelet.mjs');

interface Csr { metadata: { name: string }; spec: { username: string; signerName: string }; status?: { certificate?: string; conditions?: Array<{ type: string; reason?: string }> } }
const csrsOf = async (h: AgentHarness): Promise<Csr[]> => JSON.parse(await h.kubectl('get', 'csr', '-o', 'json')).items;

/** The certificate the node API presents, verified against ca for 127.0.0.1. */
function servedCertificate(port: number, ca: string): Promise<PeerCertificate> {
  return new Promise((done, fail) => {
    const socket = connect({ host: '127.0.0.1', port, ca }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      done(cert);
    });
    socket.once('error', fail);
  });
}

/** Runs the agent CLI with this bootstrap kubeconfig; resolves with its exit code and output. */
function bootstrapOnce(h: AgentHarness, bootstrapKubeconfig: string, nodeName: string): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mk-refused-'));
  return new Promise((done) => {
    execFile(process.execPath, [
      agentBin, '--kubeconfig', join(dir, 'kubelet.conf'), '--bootstrap-kubeconfig', bootstrapKubeconfig, '--hostname-override', nodeName,
      '--root-dir', join(dir, 'root'), '--container-runtime-endpoint', h.world.containerdEndpoint, '--port', '0', '--healthz-port', '0',
    ], { timeout: 30_000 }, (err, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      done({ code: err ? (err as { code?: number }).code ?? null : 0, output: `${stdout}${stderr}` });
    });
  });
}

test('TLS bootstrap: a node with only a bootstrap token joins, runs a pod, renews its certificate, and a dead token is refused', { timeout: 240_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t, {
    nodeName: 'boot-e2e', tlsBootstrap: true, agentArgs: ['--rotate-server-certificates'], apiServer: { clusterSigningDurationMs: signingMs },
  });
  const pemPath = join(h.rootDir, 'pki', 'kubelet-client-current.pem');
  const firstCert = new X509Certificate(readFileSync(pemPath));
  const firstFile = realpathSync(pemPath);

  await t.test('its first certificate came by CSR from the bootstrap token, approved automatically', async () => {
    const csrs = await csrsOf(h);
    const first = csrs.find((c) => c.spec.username.startsWith('system:bootstrap:'));
    assert.ok(first, `a CSR filed as a bootstrap token: ${JSON.stringify(csrs.map((c) => c.spec.username))}`);
    assert.equal(first.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
    assert.equal(first.status?.conditions?.find((c) => c.type === 'Approved')?.reason, 'AutoApproved');
    assert.match(firstCert.subject, /CN=system:node:boot-e2e/);
    // kubectl's own table: the requestor and the condition columns.
    const table = await h.kubectl('get', 'csr', first.metadata.name);
    assert.match(table, /Approved,Issued/);
  });

  await t.test('the node runs a pod on containerd', async () => {
    await h.createPod(busyboxPod('joined', h.world.images.busybox));
    const pod = await h.waitForPod('joined', 'Running and Ready', isRunningAndReady);
    const { containers } = await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': pod!.metadata!.uid! } } });
    assert.equal(containers.filter((c) => c.state === 'CONTAINER_RUNNING').length, 1);
    const described = await h.kubectl('describe', 'node', 'boot-e2e');
    assert.doesNotMatch(described, /error|Failed to get/i);
  });

  await t.test('its serving certificate comes by CSR once a person approves it with kubectl', async () => {
    const pending = await pollFor(async () => (await csrsOf(h)).find((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving' && c.spec.username === 'system:node:boot-e2e'),
      { timeoutMs: 10_000, intervalMs: 200, what: 'a kubelet-serving CSR from the node' });
    assert.match(await h.kubectl('get', 'csr', pending.metadata.name), /Pending/, 'serving CSRs are not approved automatically');
    await h.kubectl('certificate', 'approve', pending.metadata.name);
    const port = Number(await h.kubectl('get', 'node', 'boot-e2e', '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}'));
    // The node API now verifies against the cluster CA, for the node's address.
    const served = await pollFor(async () => {
      const cert = await servedCertificate(port, h.api.caCertPem).catch(() => undefined);
      return cert?.subject.CN === 'system:node:boot-e2e' ? cert : undefined;
    }, { timeoutMs: 10_000, intervalMs: 200, what: 'the node API serving the certificate issued by CSR' }).catch((err) => {
      throw new Error(`${(err as Error).message}\nagent log:\n${h.agentLogTail(30)}`);
    });
    assert.equal(served.issuer.CN, 'kubernetes');
  });

  await t.test('the certificate is renewed before it expires, and the node keeps working after the first one has expired', async () => {
    await waitFor(async () => (await csrsOf(h)).some((c) => c.spec.username === 'system:node:boot-e2e' && c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet' && c.status?.certificate),
      { timeoutMs: signingMs, intervalMs: 500, what: 'a renewal CSR filed as system:node:boot-e2e and issued' });
    await waitFor(async () => realpathSync(pemPath) !== firstFile, { timeoutMs: 5_000, intervalMs: 100, what: 'kubelet-client-current.pem replaced' });
    const renewed = new X509Certificate(readFileSync(pemPath));
    assert.ok(Date.parse(renewed.validTo) > Date.parse(firstCert.validTo));
    await waitFor(async () => Date.now() > Date.parse(firstCert.validTo) + 1000, { timeoutMs: signingMs, intervalMs: 500, what: 'the first certificate to expire' });
    await h.createPod(busyboxPod('after-renewal', h.world.images.busybox));
    await h.waitForPod('after-renewal', 'Running and Ready', isRunningAndReady);
  });

  await t.test('a deleted bootstrap token is refused, and the agent says why', async () => {
    const file = join(h.rootDir, '..', 'deleted-token.conf');
    const { token, kubeconfigYaml } = h.api.bootstrapKubeconfig(3600_000);
    writeFileSync(file, kubeconfigYaml);
    await h.kubectl('-n', 'kube-system', 'delete', 'secret', `bootstrap-token-${token.id}`);
    const run = await bootstrapOnce(h, file, 'boot-deleted');
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /TLS bootstrap refused: .*401 Unauthorized.*deleted, has expired or is wrong/);
  });

  await t.test('an expired bootstrap token is refused, and the agent says why', async () => {
    const file = join(h.rootDir, '..', 'expired-token.conf');
    writeFileSync(file, h.api.bootstrapKubeconfig(1).kubeconfigYaml);
    const run = await bootstrapOnce(h, file, 'boot-expired');
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /TLS bootstrap refused: .*401 Unauthorized/);
  });
});
