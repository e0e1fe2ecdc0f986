// The CLI's exit codes, through the real entry point, as a user would run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '../../bin/mini-kubelet.mjs');

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'agent-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const badConfig = join(dir, 'bad.yaml');
writeFileSync(badConfig, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPodz: 3\n');

const cases: Array<[string, string[], RegExp]> = [
  ['an unknown flag', ['--bad-flag'], /unknown option '--bad-flag'/],
  ['a flag without its value', ['--max-pods'], /--max-pods/],
  ['a malformed label', ['--node-labels', 'a=b,c'], /--node-labels: "c" is not key=value/],
  ['a malformed taint', ['--register-with-taints', 'a=b:Never'], /--register-with-taints: invalid taint effect "Never"/],
  ['an unknown config field', ['--config', badConfig], /maxPodz: unknown field/],
  ['an unknown authorization mode', ['--authorization-mode=RBAC'], /--authorization-mode: "RBAC" is not one of Webhook, AlwaysAllow/],
  ['a non-boolean --anonymous-auth', ['--anonymous-auth=perhaps'], /--anonymous-auth: "perhaps" is not true or false/],
  ['a serving certificate without its key', ['--tls-cert-file', '/x.crt'], /together/],
  ['a missing config file', ['--config', join(dir, 'absent.yaml')], /--config: cannot read/],
  ['a negative --kube-api-qps', ['--kube-api-qps=-1'], /--kube-api-qps: "-1" is not an integer in \[0, 2147483647\]/],
  ['a --kube-api-burst that is not a number', ['--kube-api-burst', 'many'], /--kube-api-burst: "many" is not an integer/],
  ['an unsafe sysctl not known to be namespaced', ['--allowed-unsafe-sysctls', 'net.*', '--allowed-unsafe-sysctls=kernel.panic'], /--allowed-unsafe-sysctls: the sysctl "kernel.panic" is not known to be namespaced/],
];

for (const [name, args, message] of cases) {
  test(`exits 2 on ${name}`, async () => {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 2);
    assert.match(stderr, message);
  });
}

test('--help exits 0', async () => {
  const { code } = await runCli(['--help']);
  assert.equal(code, 0);
});
