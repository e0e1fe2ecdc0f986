// `npm start` as a user runs it: the dev command brings up a cluster whose example pods
// kubectl shows Running, and Ctrl-C stops it and leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pollFor } from '../../src/world/wait.ts';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '../../bin/mini-kubelet.mjs');

/** The value the probe yields once it yields one (errors count as not yet). */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> =>
  pollFor(async () => (await probe()) || undefined, { what, timeoutMs, intervalMs: 200 });

/** The NODE column of `kubectl get pods -o wide --no-headers` lines. */
function nodeName(lines: string[]): string {
  return lines[0]!.trim().split(/\s+/)[6]!;
}

test('dev runs the examples for kubectl and Ctrl-C cleans up', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-dev-'));
  const kubeconfig = join(dir, 'kubeconfig');
  // The agent's KubeletConfiguration travels through dev: maxPods 300 shows in the node's capacity.
  const configFile = join(dir, 'kubelet-config.yaml');
  writeFileSync(configFile, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nmaxPods: 300\n');
  const child = spawn(process.execPath, [bin, 'dev', '--port', '0', '--viewer-port', '0', '--kubeconfig-out', kubeconfig, '--log-level', 'warn', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  await waitFor('the dev banner', async () => stdout.includes('Ctrl-C'), 60_000).catch((err) => {
    throw new Error(`${(err as Error).message}\nstderr: ${stderr.slice(-2000)}`);
  });
  assert.match(stdout, new RegExp(`export KUBECONFIG=${kubeconfig}`));
  const stateDir = /state under (\S+)\./.exec(stdout)?.[1];
  assert.ok(stateDir && existsSync(stateDir));

  const env = { ...process.env, KUBECONFIG: kubeconfig };
  const pods = await waitFor('the examples Running', async () => {
    const { stdout: out } = await run('kubectl', ['get', 'pods', '-o', 'wide', '--no-headers'], { env, timeout: 20_000 });
    const lines = out.trim().split('\n').filter(Boolean);
    return lines.length >= 3 && lines.every((l) => /\sRunning\s/.test(l)) && lines;
  }, 30_000);
  assert.ok(pods.some((l) => l.startsWith('sleeper ')));
  assert.ok(pods.some((l) => l.startsWith('two-containers ') && /\s2\/2\s/.test(l)));
  const { stdout: capacity } = await run('kubectl', ['get', 'node', nodeName(pods), '-o', 'jsonpath={.status.capacity.pods}'], { env, timeout: 20_000 });
  assert.equal(capacity, '300');
  // The node's Lease decodes as kubectl and kube-apiserver decode it (renewTime is a MicroTime).
  const { stdout: described } = await run('kubectl', ['describe', 'node', nodeName(pods)], { env, timeout: 20_000 });
  assert.doesNotMatch(described, /Failed to get lease|parsing time/);
  assert.match(described, /RenewTime:\s+\w{3}, \d{2} \w{3} \d{4}/);
  // kubectl exec through the control plane (WebSocket v5 → SPDY), the node API and the simulated
  // runtime's streaming server, which plays the command as a script.
  const exec = await run('kubectl', ['exec', 'sleeper', '--', 'sh', '-c', 'echo from-the-sim; exit 3'], { env, timeout: 20_000 }).catch((err) => err as { code?: number; stdout?: string });
  assert.equal(exec.stdout, 'from-the-sim\n');
  assert.equal((exec as { code?: number }).code, 3, 'the exit code comes back');
  // Ready only once the simulated runtime answered its readiness probe (ExecSync).
  await waitFor('the probed example Ready', async () => {
    const { stdout: out } = await run('kubectl', ['get', 'pod', 'probed', '--no-headers'], { env, timeout: 20_000 });
    return /\s1\/1\s+Running\s/.test(out);
  }, 30_000);
  // Logs travel admin → dev control plane → the node API (the control plane's client certificate,
  // checked by the agent's SubjectAccessReview) → the log file; a refusal anywhere fails kubectl.
  await run('kubectl', ['logs', 'two-containers', '-c', 'talker'], { env, timeout: 20_000 });
  const { stdout: nodePods } = await run('kubectl', ['get', '--raw', `/api/v1/nodes/${nodeName(pods)}/proxy/pods`], { env, timeout: 20_000 });
  assert.ok((JSON.parse(nodePods).items as Array<{ metadata: { name: string } }>).some((p) => p.metadata.name === 'two-containers'));

  child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<string>((r) => (timer = setTimeout(() => r('still running'), 20_000)))]);
  clearTimeout(timer);
  assert.equal(code, 0);
  assert.equal(existsSync(stateDir!), false, 'the state directory is removed');
});

test('dev refuses a bad --max-pods with exit code 2 and the flag named', { timeout: 30_000 }, async () => {
  const err = await run(process.execPath, [bin, 'dev', '--port', '0', '--max-pods', 'lots'], { timeout: 20_000 }).then(() => undefined, (e) => e as { code?: number; stderr?: string });
  assert.equal(err?.code, 2);
  assert.match(String(err?.stderr), /--max-pods/);
});

test('dev refuses a negative --kube-api-qps with exit code 2 and the flag named', { timeout: 30_000 }, async () => {
  const err = await run(process.execPath, [bin, 'dev', '--port', '0', '--kube-api-qps', '-5'], { timeout: 20_000 }).then(() => undefined, (e) => e as { code?: number; stderr?: string });
  assert.equal(err?.code, 2);
  assert.match(String(err?.stderr), /--kube-api-qps/);
});
