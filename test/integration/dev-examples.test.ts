// Every manifest in manifests/examples, applied by `mini-kubelet dev` to a node on the simulated
// runtime, does what the comment at its top says. If an example is added, this test names it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pollFor } from '../../src/world/wait.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/mini-kubelet.mjs');

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> =>
  pollFor(async () => (await probe().catch(() => undefined)) || undefined, { what, timeoutMs, intervalMs: 250 });

test('dev: every example in manifests/examples does what its comment says', { timeout: 120_000 }, async (t) => {
  const examples = readdirSync(join(root, 'manifests/examples')).sort();
  assert.deepEqual(examples, ['probed.yaml', 'runtime-class.yaml', 'sleeper.yaml', 'two-containers.yaml'],
    'a new example needs its check here');
  const dir = mkdtempSync(join(tmpdir(), 'dev-examples-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const child = spawn(process.execPath, [bin, 'dev', '--port', '0', '--viewer-port', '0', '--kubeconfig-out', kubeconfig, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor('the dev banner', async () => stdout.includes('Ctrl-C'), 60_000).catch((err) => {
    throw new Error(`${(err as Error).message}\nstderr: ${stderr.slice(-2000)}`);
  });
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  const kubectl = async (...args: string[]) => (await run('kubectl', args, { env, timeout: 20_000 })).stdout;
  const pod = async (name: string) => JSON.parse(await kubectl('get', 'pod', name, '-o', 'json')) as {
    spec: { runtimeClassName?: string };
    status: { phase: string; conditions?: Array<{ type: string; status: string }>; containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number; state: { running?: object } }> };
  };
  const runningAndReady = async (name: string, containers: number) => {
    const p = await pod(name);
    const cs = p.status.containerStatuses ?? [];
    return p.status.phase === 'Running' && cs.length === containers && cs.every((c) => c.ready && c.state.running && c.restartCount === 0) && p;
  };

  // sleeper: one container that sleeps, Running 1/1, no restarts.
  await waitFor('sleeper Running and Ready', () => runningAndReady('sleeper', 1), 30_000);

  // two-containers: both run; talker prints "hello from two-containers" every 5 seconds.
  await waitFor('two-containers 2/2', () => runningAndReady('two-containers', 2), 30_000);
  const first = await waitFor('a line from talker', async () => {
    const out = await kubectl('logs', 'two-containers', '-c', 'talker');
    return out.includes('hello from two-containers') && out;
  }, 15_000);
  assert.match(first, /^hello from two-containers\n/);
  // kubectl logs -f follows the file: the next line comes about 5 s later.
  const follow = spawn('kubectl', ['logs', '-f', 'two-containers', '-c', 'talker', '--timestamps'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { if (follow.exitCode === null) follow.kill('SIGKILL'); });
  let followed = '';
  follow.stdout.on('data', (d) => (followed += d));
  const before = first.split('\n').filter(Boolean).length;
  const lines = await waitFor('a new line through logs -f', async () => {
    const l = followed.split('\n').filter(Boolean);
    return l.length > before && l;
  }, 15_000);
  follow.kill('SIGINT');
  const stamps = lines.slice(-2).map((l) => Date.parse(l.split(' ')[0]!));
  assert.ok(lines.every((l) => / hello from two-containers$/.test(l)), lines.join('\n'));
  if (lines.length >= 2) {
    const gap = stamps[1]! - stamps[0]!;
    assert.ok(gap >= 4_500 && gap <= 6_500, `talker prints every 5 s (gap ${gap} ms)`);
  }
  assert.equal(await kubectl('logs', 'two-containers', '-c', 'sleeper'), '', 'sleeper prints nothing');

  // The banner's timeline address opens the two-containers pod's waterfall, as a browser gets it.
  const address = /Pod timelines in a browser: (http:\/\/127\.0\.0\.1:\d+\/debug\/pods\/default\/two-containers\/timeline)/.exec(stdout)?.[1];
  assert.ok(address, `the banner prints the timeline address:\n${stdout}`);
  const page = await fetch(address, { headers: { accept: 'text/html' } });
  assert.equal(page.status, 200);
  const html = await page.text();
  for (const step of ['pod.watch', 'pod.admission', 'pod.sync', 'RunPodSandbox', 'CreateContainer', 'StartContainer', 'status.patch']) {
    assert.ok(html.includes(step), `the page shows ${step}`);
  }
  assert.ok(html.includes('talker') && html.includes('sleeper'), 'both containers are on the page');

  // probed: Ready only once its readiness probe passed; describe shows the three probes.
  await waitFor('probed Ready', async () => {
    const p = await runningAndReady('probed', 1);
    return p && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  }, 30_000);
  const described = await kubectl('describe', 'pod', 'probed');
  for (const probe of ['Liveness', 'Readiness', 'Startup']) assert.match(described, new RegExp(`${probe}:\\s+exec \\[`), probe);

  // alt-handler: the RuntimeClass runc-alt, admitted and run like sleeper.
  const alt = await waitFor('alt-handler Running', () => runningAndReady('alt-handler', 1), 30_000);
  assert.equal(alt.spec.runtimeClassName, 'runc-alt');

  // None of them restarted, and the node reported no failure events for them.
  const events = await kubectl('get', 'events', '-o', 'jsonpath={range .items[*]}{.type} {.reason} {.involvedObject.name}{"\\n"}{end}');
  assert.doesNotMatch(events, /^Warning /m, events);

  child.kill('SIGINT');
  await new Promise((r) => child.on('exit', r));
});
