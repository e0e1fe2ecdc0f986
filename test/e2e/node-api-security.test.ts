// The node API (kubelet port) and the dev control plane, secured, as a user meets them: through
// the machine's curl and kubectl, against the agent running as a separate process on real
// containerd. Who may reach a pod is decided by certificates, tokens, TokenReview,
// SubjectAccessReview and RBAC; hostile requests get a 4xx and the agent keeps running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { createCertificateAuthority } from '../../src/tls/certificates.ts';
import { pollFor } from '../../src/world/wait.ts';
import { busyboxPod, isRunningAndReady, namespace, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';
import { requireE2e } from '../helpers/e2e.ts';

const execFileAsync = promisify(execFile);

interface CurlAnswer { code: number; body: string }

/** curl against the node API: -k because the node's serving certificate is its own self-signed one. */
async function curl(url: string, ...args: string[]): Promise<CurlAnswer> {
  const { stdout } = await execFileAsync('curl', ['-sS', '-k', '--path-as-is', '-o', '-', '-w', '\n%{http_code}', ...args, url], { timeout: 30_000 });
  const cut = stdout.lastIndexOf('\n');
  return { code: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

/** One raw HTTP/1.1 request over TLS, for request targets no HTTP client would send. */
function rawRequest(port: number, requestLine: string, cert: { certPem: string; keyPem: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, cert: cert.certPem, key: cert.keyPem }, () => {
      socket.write(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (answer += d));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${requestLine}`)));
  });
}

/** The admin kubeconfig with its user's credentials replaced by a bearer token. */
function tokenKubeconfig(adminKubeconfig: string, token: string): string {
  const config = YAML.parse(adminKubeconfig) as { users: Array<{ name: string; user: Record<string, unknown> }> };
  for (const u of config.users) u.user = { token };
  return YAML.stringify(config);
}

function statusCodeOf(rawAnswer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(rawAnswer)?.[1] ?? 0);
}

test('the node API and the dev control plane refuse whoever is not allowed, and hostile requests stop nothing', { timeout: 240_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'mk-security-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A short unauthorized cache, so a new binding is seen in a second rather than the kubelet's 30 s.
  const h: AgentHarness = await startAgentHarness(t, {
    nodeName: 'secure-node',
    kubeletConfig: { authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '1s', cacheUnauthorizedTTL: '1s' } } },
  });
  const node = await h.core.readNode({ name: h.nodeName });
  const port = node.status!.daemonEndpoints!.kubeletEndpoint!.Port;
  const base = `https://127.0.0.1:${port}`;
  const pem = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };

  // Identities: the cluster admin, a stranger's certificate from a CA nobody trusts.
  const admin = await h.api.issueClientCertificate('kubernetes-admin', ['system:masters']);
  const adminArgs = ['--cert', pem('admin.crt', admin.certPem), '--key', pem('admin.key', admin.keyPem)];
  const strangerCa = await createCertificateAuthority('stranger-ca');
  const stranger = await strangerCa.issue({ commonName: 'kubernetes-admin', organizations: ['system:masters'], usages: ['clientAuth'] });
  const strangerArgs = ['--cert', pem('stranger.crt', stranger.certPem), '--key', pem('stranger.key', stranger.keyPem)];

  // A pod whose spec carries a value nobody without rights may read.
  await h.createPod(busyboxPod('guarded', h.world.images.busybox, {
    containers: [{ name: 'app', image: h.world.images.busybox, command: ['sh', '-c', 'echo guarded-log-line; sleep 3600'], env: [{ name: 'API_KEY', value: 'do-not-leak' }] }],
  }));
  await h.waitForPod('guarded', 'Running and Ready', isRunningAndReady);

  await t.test('anonymous, forged-token and foreign-certificate requests to the node API get 401', async () => {
    for (const [who, args] of [['anonymous', []], ['a forged bearer token', ['-H', 'Authorization: Bearer forged.token.value']], ['a certificate from an untrusted CA', strangerArgs]] as const) {
      const answer = await curl(`${base}/pods`, ...args);
      assert.equal(answer.code, 401, `${who}: ${answer.body}`);
      assert.doesNotMatch(answer.body, /do-not-leak/, who);
    }
  });

  await t.test('the admin certificate reads /pods and the logs on the node API', async () => {
    const pods = await curl(`${base}/pods`, ...adminArgs);
    assert.equal(pods.code, 200, pods.body);
    assert.ok((JSON.parse(pods.body).items as Array<{ metadata: { name: string } }>).some((p) => p.metadata.name === 'guarded'));
    const logs = await curl(`${base}/containerLogs/${namespace}/guarded/app`, ...adminArgs);
    assert.equal(logs.code, 200, logs.body);
    assert.match(logs.body, /guarded-log-line/);
  });

  await t.test('kubectl logs works for the admin through the dev control plane', async () => {
    assert.match(await h.kubectl('logs', 'guarded'), /guarded-log-line/);
  });

  await t.test('a service-account token is refused nodes/proxy until a ClusterRoleBinding grants it', async () => {
    await h.kubectl('create', 'serviceaccount', 'alice');
    const token = (await h.kubectl('create', 'token', 'alice')).trim();
    // Her own kubeconfig: the admin's cluster and CA, her token as the only credential (a client
    // certificate beside a token would win, as in kube-apiserver).
    const aliceKubeconfig = pem('alice.kubeconfig', tokenKubeconfig(readFileSync(h.kubeconfigPath, 'utf8'), token));
    const asAlice = (...args: string[]) => execFileAsync('kubectl', ['--kubeconfig', aliceKubeconfig, ...args], { timeout: 30_000 });
    const proxyPods = `/api/v1/nodes/${h.nodeName}/proxy/pods`;

    await assert.rejects(asAlice('get', '--raw', proxyPods), (err: { stderr?: string }) => {
      assert.match(err.stderr ?? '', /Forbidden|forbidden/);
      return true;
    });
    const direct = await curl(`${base}/pods`, '-H', `Authorization: Bearer ${token}`);
    assert.equal(direct.code, 403, direct.body);
    assert.match(direct.body, /^Forbidden \(user=system:serviceaccount:default:alice, verb=get, resource=nodes, subresource\(s\)=\[pods proxy\]\)/);

    await h.kubectl('create', 'clusterrolebinding', 'alice-kubelet-api', '--clusterrole=system:kubelet-api-admin', `--serviceaccount=${namespace}:alice`);
    const viaApiServer = await pollFor(async () => {
      try {
        return (await asAlice('get', '--raw', proxyPods)).stdout;
      } catch {
        return undefined;
      }
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'alice to reach nodes/proxy through the dev control plane' });
    assert.ok((JSON.parse(viaApiServer).items as Array<{ metadata: { name: string } }>).some((p) => p.metadata.name === 'guarded'));
    const allowed = await pollFor(async () => {
      const a = await curl(`${base}/pods`, '-H', `Authorization: Bearer ${token}`);
      return a.code === 200 ? a : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'alice to reach the node API directly once the binding exists' });
    assert.ok(allowed.body.includes('"guarded"'));
  });

  await t.test('hostile requests get a 4xx, serve nothing outside the pod logs, and the agent keeps running', async () => {
    // A decoy log file one directory above the pod-logs root's pods.
    const podDir = (await curl(`${base}/pods`, ...adminArgs)).body.includes('guarded');
    assert.ok(podDir);
    const decoyDir = join(dir, 'decoy');
    mkdirSync(decoyDir, { recursive: true });
    writeFileSync(join(decoyDir, '0.log'), '2026-01-01T00:00:00.000000000Z stdout F decoy-secret\n');
    const traversal = `..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2F${decoyDir.slice(1).replaceAll('/', '%2F')}`;
    const cases = [
      `GET /containerLogs/${namespace}/guarded/%E0%A4%A HTTP/1.1`,
      'GET http://[::1 HTTP/1.1',
      'GET // HTTP/1.1',
      `GET /containerLogs/${namespace}/guarded/${traversal} HTTP/1.1`,
      `GET /containerLogs/${namespace}/no-such-pod/app HTTP/1.1`,
      `GET /containerLogs/${namespace}/guarded/no-such-container HTTP/1.1`,
      'GET /containerLogs/..%2F..%2Fetc/guarded/app HTTP/1.1',
    ];
    for (const line of cases) {
      for (const who of [undefined, admin]) {
        const answer = await rawRequest(port, line, who ?? stranger);
        const code = statusCodeOf(answer);
        assert.ok(code >= 400 && code < 500, `${line} (${who ? 'admin' : 'stranger'}) answered ${code}: ${answer.slice(0, 200)}`);
        assert.doesNotMatch(answer, /decoy-secret/, line);
      }
    }
    const oversized = await curl(`${base}/pods`, ...adminArgs, '-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', `@${pem('big.json', 'x'.repeat(4 * 1024 * 1024))}`);
    assert.ok(oversized.code >= 400 && oversized.code < 500, `oversized POST answered ${oversized.code}`);

    // Still the same process, still serving.
    const exitedYet = await Promise.race([h.agent.exited.then(() => true), Promise.resolve(false)]);
    assert.equal(exitedYet, false, `the agent exited:\n${h.agentLogTail()}`);
    assert.equal((await curl(`${base}/pods`, ...adminArgs)).code, 200);
    assert.match(await h.kubectl('logs', 'guarded'), /guarded-log-line/);
  });

  await t.test('the node reads a Secret only when a pod bound to it uses the Secret', async () => {
    await h.createSecret({ metadata: { name: 'unused-secret' }, stringData: { v: 'x' } });
    await h.createSecret({ metadata: { name: 'used-secret' }, stringData: { token: 'from-secret' } });
    const asNode = (...args: string[]) => execFileAsync('kubectl', ['--kubeconfig', h.nodeKubeconfigPath, ...args], { timeout: 30_000 });
    await assert.rejects(asNode('get', 'secret', 'unused-secret', '-n', namespace), (err: { stderr?: string }) => {
      assert.match(err.stderr ?? '', /no relationship found between node 'secure-node' and this object/);
      return true;
    });
    await h.createPod(busyboxPod('uses-secret', h.world.images.busybox, {
      containers: [{ name: 'app', image: h.world.images.busybox, command: ['sh', '-c', 'echo "token=$TOKEN"; sleep 3600'], env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'used-secret', key: 'token' } } }] }],
    }));
    await h.waitForPod('uses-secret', 'Running and Ready', isRunningAndReady);
    assert.match((await asNode('get', 'secret', 'used-secret', '-n', namespace, '-o', 'jsonpath={.metadata.name}')).stdout, /used-secret/);
    assert.match(await h.kubectl('logs', 'uses-secret'), /token=from-secret/);
    await assert.rejects(asNode('get', 'secret', 'unused-secret', '-n', namespace));
  });
});
