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
