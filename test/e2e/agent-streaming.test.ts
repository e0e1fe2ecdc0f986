// kubectl exec, attach, port-forward, cp and debug on real containerd, through the dev control plane and
// the agent's node API, as a user runs them: the machine's kubectl 1.32 speaks WebSocket (v5 channels
// for exec and attach, tunnelled SPDY for port-forward), which the control plane carries to the
// node's SPDY; with WebSockets turned off kubectl speaks SPDY, relayed end to end.
// Exit codes, stdin, a TTY (under script(1), which gives kubectl a terminal), HTTP through a
// forwarded port, files both ways, and the refusals: no credentials at the node, no RBAC grant at
// the control plane.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { freeLoopbackPort } from '../../src/world/free-port.ts';
import { pollFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

const execFileAsync = promisify(execFile);

interface Run { code: number | null; stdout: string; stderr: string }

/** kubectl with the admin's kubeconfig (or another), stdin fed from `input` (none: closed). */
function kubectl(h: AgentHarness, args: string[], opts: { input?: string; kubeconfig?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', opts.kubeconfig ?? h.kubeconfigPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A long-running kubectl (attach, port-forward): resolves once its output matches, with a way to stop it. */
async function kubectlUntil(h: AgentHarness, args: string[], pattern: RegExp, env: Record<string, string> = {}): Promise<{ output: string; stop(): void }> {
  const child = spawn('kubectl', ['--kubeconfig', h.kubeconfigPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const stop = () => child.kill('SIGTERM');
  try {
    await pollFor(() => pattern.test(output) || child.exitCode !== null, { timeoutMs: 30_000, intervalMs: 50, what: `kubectl ${args.join(' ')} to print ${pattern}` });
  } catch (err) {
    stop();
    throw err;
  }
  if (!pattern.test(output)) throw new Error(`kubectl ${args.join(' ')} ended: ${output}`);
  return { output, stop };
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('kubectl exec, attach, port-forward, cp and debug on real containerd', { timeout: 300_000, concurrency: true }, async (t) => {
  if (!requireE2e(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'mk-streaming-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const h = await startAgentHarness(t, { nodeName: 'streaming-node' });
  const busybox = h.world.images.busybox;
  await h.createPod(busyboxPod('shell', busybox, {
    containers: [
      { name: 'app', image: busybox, command: ['sh', '-c', 'mkdir -p /www && echo served-through-the-tunnel > /www/index.html && httpd -f -p 8080 -h /www'] },
      { name: 'ticker', image: busybox, command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.3; done'] },
    ],
  }));
  await h.waitForPod('shell', 'Running and Ready', isRunningAndReady);

  await Promise.all([
    t.test('exec: stdout, stderr and the command\'s exit code come back', async () => {
      const r = await kubectl(h, ['-v=7', 'exec', 'shell', '-c', 'app', '--', 'sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3']);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /The subprotocol is v5\.channel\.k8s\.io/, 'kubectl spoke WebSocket v5');
      assert.equal(r.stdout, 'to-stdout\n');
      assert.match(r.stderr, /to-stderr/);
      assert.match(r.stderr, /command terminated with exit code 3/);
      const ok = await kubectl(h, ['exec', 'shell', '-c', 'app', '--', 'id', '-u']);
      assert.deepEqual([ok.code, ok.stdout], [0, '0\n']);
    }),

    t.test('exec -i: stdin reaches the command, and its end is seen', async () => {
      const r = await kubectl(h, ['exec', '-i', 'shell', '-c', 'app', '--', 'sh', '-c', 'wc -l; echo stdin-closed'], { input: 'one\ntwo\nthree\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.replace(/[ \t]+/g, ''), '3\nstdin-closed\n');
    }),

    t.test('exec -it: a TTY inside the container', async () => {
      // script(1) gives kubectl a terminal of its own, as a person's shell would.
      const cmd = `kubectl --kubeconfig ${h.kubeconfigPath} exec -it shell -c app -- sh -c 'tty; echo tty-ok'`;
      const { stdout } = await execFileAsync('script', ['-qec', cmd, '/dev/null'], { timeout: 30_000 });
      assert.match(stdout, /\/dev\/pts\/\d+/);
      assert.match(stdout, /tty-ok/);
    }),

    t.test('attach: the main process\'s output streams to kubectl', async () => {
      const session = await kubectlUntil(h, ['attach', 'shell', '-c', 'ticker'], /tick-\d+\r?\n.*tick-\d+/s);
      session.stop();
      const ticks = [...session.output.matchAll(/tick-(\d+)/g)].map((m) => Number(m[1]));
      assert.ok(ticks.length >= 2 && ticks[1]! > ticks[0]!, `ticks in order: ${ticks.join(',')}`);
    }),

    t.test('port-forward: an HTTP request through the tunnel reaches the pod\'s server', async () => {
      const port = await freeLoopbackPort();
      const session = await kubectlUntil(h, ['-v=6', 'port-forward', 'pod/shell', `${port}:8080`], new RegExp(`Forwarding from 127\\.0\\.0\\.1:${port} -> 8080`));
      try {
        const first = await httpGet(port, '/index.html');
        assert.deepEqual(first, { status: 200, body: 'served-through-the-tunnel\n' });
        const second = await httpGet(port, '/missing');
        assert.equal(second.status, 404, 'a second request on the same tunnel');
        assert.doesNotMatch(session.output, /fallback to secondary dialer/, 'the WebSocket tunnel was used, not the SPDY fallback');
      } finally {
        session.stop();
      }
    }),

    t.test('SPDY clients (kubectl with WebSockets turned off) stream too: exec with stdin, port-forward', async () => {
      const spdyOnly = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };
      const r = await kubectl(h, ['exec', '-i', 'shell', '-c', 'app', '--', 'sh', '-c', 'cat; exit 5'], { input: 'over-spdy\n', env: spdyOnly });
      assert.deepEqual([r.code, r.stdout], [5, 'over-spdy\n'], r.stderr);
      const port = await freeLoopbackPort();
      const session = await kubectlUntil(h, ['port-forward', 'pod/shell', `${port}:8080`], new RegExp(`Forwarding from 127\\.0\\.0\\.1:${port}`), spdyOnly);
      try {
        assert.deepEqual(await httpGet(port, '/index.html'), { status: 200, body: 'served-through-the-tunnel\n' });
      } finally {
        session.stop();
      }
    }),

    t.test('cp: a file into the pod and back out, byte for byte', async () => {
      const local = join(dir, 'in.txt');
      const content = `copied ${'x'.repeat(5000)}\nsecond line\n`;
      writeFileSync(local, content);
      const up = await kubectl(h, ['cp', local, 'default/shell:/tmp/in.txt', '-c', 'app']);
      assert.equal(up.code, 0, up.stderr);
      const cat = await kubectl(h, ['exec', 'shell', '-c', 'app', '--', 'cat', '/tmp/in.txt']);
      assert.equal(cat.stdout, content);
      const back = join(dir, 'back.txt');
      const down = await kubectl(h, ['cp', 'default/shell:/tmp/in.txt', back, '-c', 'app']);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(readFileSync(back, 'utf8'), content);
    }),

    t.test('debug: an ephemeral container joins the running pod, sees its target\'s processes, and is never restarted', async () => {
      const r = await kubectl(h, ['debug', 'pod/shell', '-c', 'debugger', '--profile=general', `--image=${busybox}`, '--target=app', '--', 'sleep', '3600']);
      assert.equal(r.code, 0, r.stderr);
      const p = await h.waitForPod('shell', 'the ephemeral container running', (x) => !!x?.status?.ephemeralContainerStatuses?.find((s) => s.name === 'debugger')?.state?.running);
      const s = p!.status!.ephemeralContainerStatuses!.find((x) => x.name === 'debugger')!;
      assert.equal(s.ready, false, 'ephemeral containers are never ready');
      assert.ok(isRunningAndReady(p), 'the pod stays Ready');
      const ps = await kubectl(h, ['exec', 'shell', '-c', 'debugger', '--', 'ps']);
      assert.match(ps.stdout, /httpd -f -p 8080/, 'the target\'s processes are visible (--target)');
      // Interactive, as a person would: kubectl attaches to the new container's TTY.
      const cmd = `kubectl --kubeconfig ${h.kubeconfigPath} debug -it pod/shell -c debugger-it --profile=general --image=${busybox} -- sh -c 'sleep 2; echo debug-session-ok'`;
      const { stdout } = await execFileAsync('script', ['-qec', cmd, '/dev/null'], { timeout: 60_000 });
      assert.match(stdout, /debug-session-ok/);
      const after = await h.waitForPod('shell', 'the interactive one finished', (x) => !!x?.status?.ephemeralContainerStatuses?.find((e) => e.name === 'debugger-it')?.state?.terminated);
      assert.equal(after!.status!.ephemeralContainerStatuses!.find((e) => e.name === 'debugger-it')!.restartCount, 0, 'not restarted');
    }),

    t.test('refusals: the node wants credentials; the control plane wants an RBAC grant for pods/exec', async () => {
      const node = await pollFor(async () => (await h.core.readNode({ name: h.nodeName })).status?.daemonEndpoints?.kubeletEndpoint?.Port, { timeoutMs: 10_000, intervalMs: 100, what: 'the kubelet port' });
      const anonymous = await execFileAsync('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-H', 'Connection: Upgrade', '-H', 'Upgrade: SPDY/3.1',
        `https://127.0.0.1:${node}/exec/default/shell/app?command=id&output=1`], { timeout: 15_000 });
      assert.equal(anonymous.stdout, '401');

      await h.kubectl('create', 'serviceaccount', 'dave');
      const token = (await h.kubectl('create', 'token', 'dave')).trim();
      const config = YAML.parse(readFileSync(h.kubeconfigPath, 'utf8')) as { users: Array<{ user: Record<string, unknown> }> };
      for (const u of config.users) u.user = { token };
      const daveKubeconfig = join(dir, 'dave.kubeconfig');
      writeFileSync(daveKubeconfig, YAML.stringify(config), { mode: 0o600 });
      // kubectl reads the pod first: with that alone granted, the exec itself is what is refused.
      await h.kubectl('create', 'role', 'read-pods', '--verb=get', '--resource=pods');
      await h.kubectl('create', 'rolebinding', 'dave-reads', '--role=read-pods', '--serviceaccount=default:dave');
      const refused = await pollFor(async () => {
        const r = await kubectl(h, ['exec', 'shell', '-c', 'app', '--', 'id'], { kubeconfig: daveKubeconfig });
        return /pods\/exec/.test(r.stderr) && r;
      }, { timeoutMs: 15_000, intervalMs: 300, what: 'the exec itself to be refused' });
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /pods "shell" is forbidden: User "system:serviceaccount:default:dave" cannot create resource "pods\/exec" in API group "" in the namespace "default"/);
      const attach = await kubectl(h, ['attach', 'shell', '-c', 'ticker'], { kubeconfig: daveKubeconfig });
      assert.match(attach.stderr, /cannot create resource "pods\/attach"/);
      const forward = await kubectl(h, ['port-forward', 'pod/shell', `${await freeLoopbackPort()}:8080`], { kubeconfig: daveKubeconfig });
      assert.match(forward.stderr, /cannot create resource "pods\/portforward"/);
      await h.kubectl('create', 'role', 'exec-in-pods', '--verb=get,create', '--resource=pods/exec');
      await h.kubectl('create', 'rolebinding', 'dave-exec', '--role=exec-in-pods', '--serviceaccount=default:dave');
      const allowed = await pollFor(async () => {
        const r = await kubectl(h, ['exec', 'shell', '-c', 'app', '--', 'echo', 'granted'], { kubeconfig: daveKubeconfig });
        return r.code === 0 && r;
      }, { timeoutMs: 15_000, intervalMs: 300, what: 'the RoleBinding to take effect' });
      assert.equal(allowed.stdout, 'granted\n');
    }),
  ]);
});
