// `mini-kubelet apiserver` as a user runs it: always HTTPS (a cluster CA of its own), an admin
// kubeconfig kubectl uses as is, nothing for a caller without credentials, and a clean exit on SIGTERM.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

test('apiserver serves kubectl over HTTPS through its admin kubeconfig and exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'apiserver-command-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const child = spawn(process.execPath, ['bin/mini-kubelet.mjs', 'apiserver', '--port', '0', '--kubeconfig-out', kubeconfig, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/^(https:\/\/127\.0\.0\.1:\d+)$/m);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`apiserver exited early with ${code}`)));
      setTimeout(() => reject(new Error('no URL printed within 30 s')), 30_000).unref();
    });
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile('/usr/bin/kubectl', ['get', 'namespaces', '-o', 'name'], { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig }, timeout: 20_000 },
        (err, out, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(out)));
    });
    assert.deepEqual(stdout.trim().split('\n'), ['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);
    assert.match(url, /^https:/);
    const whoami = await new Promise<string>((resolve, reject) => {
      execFile('/usr/bin/kubectl', ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}'],
        { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig }, timeout: 20_000 },
        (err, out, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(out)));
    });
    assert.equal(whoami, 'kubernetes-admin ["system:masters","system:authenticated"]');
    // Without the kubeconfig's client certificate the server answers, but as to system:anonymous.
    const anonymous = await new Promise<string>((resolve) => {
      execFile('curl', ['-sk', `${url}/api/v1/namespaces`], { timeout: 20_000 }, (_err, out) => resolve(out));
    });
    assert.equal(JSON.parse(anonymous).code, 403);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('apiserver --bootstrap-kubeconfig-out: the token authenticates as a bootstrapper who may file CSRs, and kubectl decides them', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'apiserver-bootstrap-'));
  const admin = join(dir, 'admin.conf');
  const boot = join(dir, 'bootstrap.conf');
  const child = spawn(process.execPath, ['bin/mini-kubelet.mjs', 'apiserver', '--port', '0', '--kubeconfig-out', admin, '--bootstrap-kubeconfig-out', boot, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const kubectl = (kubeconfig: string, ...args: string[]) => new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile('/usr/bin/kubectl', args, { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig }, timeout: 20_000 },
      (err, out, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: stderr }));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (/^https:\/\//m.test(out)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`apiserver exited early with ${code}`)));
    });
    // The bootstrap kubeconfig is written after the URL is printed: wait for the bindings it needs.
    let whoami = { code: 1, out: '', err: '' };
    for (let i = 0; i < 100 && whoami.code !== 0; i++) {
      whoami = await kubectl(boot, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}');
      if (whoami.code !== 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(whoami.out, /^system:bootstrap:[a-z0-9]{6} \["system:bootstrappers","system:bootstrappers:kubeadm:default-node-token","system:authenticated"\]$/);
    assert.equal((await kubectl(boot, 'auth', 'can-i', 'create', 'certificatesigningrequests.certificates.k8s.io')).out.trim(), 'yes');
    assert.equal((await kubectl(boot, 'auth', 'can-i', 'list', 'secrets', '-n', 'kube-system')).out.trim(), 'no');
    assert.equal((await kubectl(boot, 'auth', 'can-i', 'create', 'pods')).out.trim(), 'no');

    // A person's CSR (no kubelet subject): Pending until kubectl denies it; a denial cannot be undone.
    const { createCertificateRequest } = await import('../../src/tls/certificate-requests.ts');
    const { csrPem } = await createCertificateRequest({ commonName: 'jane', organizations: ['devs'] });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'csr.yaml'), JSON.stringify({
      apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'jane' },
      spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['digital signature', 'client auth'], expirationSeconds: 3600 },
    }));
    assert.equal((await kubectl(admin, 'create', '-f', join(dir, 'csr.yaml'))).code, 0);
    assert.match((await kubectl(admin, 'get', 'csr', 'jane')).out, /jane\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+kubernetes-admin\s+60m\s+Pending/);
    assert.equal((await kubectl(admin, 'certificate', 'deny', 'jane')).code, 0);
    assert.match((await kubectl(admin, 'get', 'csr', 'jane')).out, /\sDenied\n/);
    const approveDenied = await kubectl(admin, 'certificate', 'approve', 'jane');
    assert.notEqual(approveDenied.code, 0);
    assert.match(approveDenied.err, /Denied|mutually exclusive|already/i);
    // A bootstrapper may read CSRs but not decide them.
    await writeFile(join(dir, 'csr-joe.yaml'), JSON.stringify({
      apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'joe' },
      spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['digital signature', 'client auth'] },
    }));
    assert.equal((await kubectl(admin, 'create', '-f', join(dir, 'csr-joe.yaml'))).code, 0);
    const byBootstrapper = await kubectl(boot, 'certificate', 'approve', 'joe');
    assert.notEqual(byBootstrapper.code, 0);
    assert.match(byBootstrapper.err, /forbidden/i);
    child.kill('SIGTERM');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
