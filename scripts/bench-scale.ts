// `npm run bench:scale -- --pods N [--kube-api-qps Q] [--kube-api-burst B] [--idle-seconds S] [--cpu-profile DIR]`:
// how the agent copes with many pods, on the simulated runtime (no root). It starts the dev
// control plane (in this process), the simulated CRI runtime and the agent (each a child process,
// from the dist/ bundle: `npm run build` first) with --max-pods N, then
//   1. creates N one-container pods bound to the node, as fast as the API allows (parallel creates),
//      and waits until a watch has seen every one Running;
//   2. with all N Running, measures the agent's CPU over --idle-seconds (default 30);
//   3. deletes them all and waits until the API has none left.
// Prints one JSON line: seconds_to_all_running, pods_per_second, the agent's peak RSS (VmHWM) and
// CPU seconds during phase 1, its idle CPU in cores during 2, seconds_to_all_deleted, the agent's
// API requests during phase 1 by verb and resource, and the QPS and burst it ran with.
// The agent runs with the bin's V8 heap settings (bin/heap-settings.mjs), as `mini-kubelet` runs it;
// BENCH_AGENT_NODE_FLAGS adds node flags before them (e.g. "--heap-growing-percent=50" wins over them).
// --cpu-profile DIR: the agent runs under node --cpu-prof (profile written to DIR when it exits)
// and the top functions by self time are printed on stderr, and under "profile" in the JSON.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Watch, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { startApiServer } from '../src/apiserver/index.ts';
import type { ObservedRequest } from '../src/apiserver/http-server.ts';
import { adminClient, type AdminClient } from './bench-admin-client.ts';
import { topSelfTime, type CpuProfile, type SelfTimeRow } from './cpu-profile-top.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '110' },
    'kube-api-qps': { type: 'string' },
    'kube-api-burst': { type: 'string' },
    'idle-seconds': { type: 'string', default: '30' },
    'cpu-profile': { type: 'string' },
    parallelism: { type: 'string', default: '64' },
    top: { type: 'string', default: '25' },
  },
});
const n = Number(values.pods);
const idleSeconds = Number(values['idle-seconds']);
const parallelism = Number(values.parallelism);
if (!Number.isInteger(n) || n < 1 || !(idleSeconds >= 0) || !Number.isInteger(parallelism) || parallelism < 1) {
  console.error('usage: bench-scale --pods N [--kube-api-qps Q] [--kube-api-burst B] [--idle-seconds S] [--cpu-profile DIR] [--parallelism P]');
  process.exit(2);
}

const root = resolve(import.meta.dirname, '..');
const bundle = join(root, 'dist', 'mini-kubelet.mjs');
if (!existsSync(bundle)) {
  console.error('bench-scale runs the agent from dist/: run `npm run build` first');
  process.exit(2);
}
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** User + system CPU seconds a live process has used so far (/proc/<pid>/stat utime + stime). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}
/** Peak resident set of a live process, in MiB (VmHWM). */
function peakRssMb(pid: number): number {
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return round(kb / 1024, 1);
}
/** "PATCH pods/status", "GET pods watch": verb and resource of a request, without namespace and name. */
function callOf(r: ObservedRequest): string {
  const seg = r.path.split('/').filter(Boolean);
  let rest = seg[0] === 'api' ? seg.slice(2) : seg.slice(3);
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const watch = /(^|&)watch=(true|1)/.test(r.query) ? ' watch' : '';
  return `${r.method} ${rest[0] ?? r.path}${rest[2] ? `/${rest[2]}` : ''}${watch}`;
}
/** Now on the monotonic clock V8's profiler stamps samples with, µs. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs fn over 0..count-1, at most `limit` at a time. */
async function inParallel(count: number, limit: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) await fn(next++);
  }));
}

/** Resolves with the child's first stdout line that matches, rejects if it exits first. */
function lineFrom(child: ChildProcess, pattern: RegExp, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what}: nothing after ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = out.split('\n').find((l) => pattern.test(l));
      if (m) {
        clearTimeout(timer);
        resolve(m.trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready`));
    });
  });
}

function stopChild(child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const logger = pino({ level: process.env.MINI_KUBELET_BENCH_LOG ?? 'warn' }, pino.destination(2));
const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
const nodeName = 'bench-node';
const namespace = 'default';
const children: ChildProcess[] = [];
const agentRequests: ObservedRequest[] = [];
let counting = false;
const apiServer = await startApiServer({
  port: 0, logger, binder: false,
  onRequest: (r) => {
    if (counting && r.user === `system:node:${nodeName}`) agentRequests.push(r);
  },
});
let watcher: AbortController | undefined;
let stopWatching = () => {};
let api: AdminClient | undefined;
try {
  const sim = spawn(process.execPath, [bundle, 'sim-runtime', '--listen', `unix://${join(dir, 'sim.sock')}`, '--image', 'busybox:1.36', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(sim);
  const endpoint = await lineFrom(sim, /^unix:\/\//, 'sim-runtime', 30_000);

  const kubeconfigFile = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigFile, await apiServer.nodeKubeconfig(nodeName));
  writeFileSync(join(dir, 'client-ca.crt'), apiServer.caCertPem);
  const profileDir = values['cpu-profile'] ? resolve(values['cpu-profile']) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const profilesBefore = new Set(profileDir ? readdirSync(profileDir) : []);
  // The bin's V8 heap settings first, as `mini-kubelet` runs the agent for users.
  const agentArgs = [
    ...(process.env.BENCH_AGENT_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    '--import', pathToFileURL(join(root, 'bin', 'heap-settings.mjs')).href, bundle, '--kubeconfig', kubeconfigFile, '--hostname-override', nodeName, '--container-runtime-endpoint', endpoint,
    '--root-dir', join(dir, 'root'), '--pod-logs-dir', join(dir, 'pods'), '--port', '0', '--healthz-port', '0', '--address', '127.0.0.1',
    '--client-ca-file', join(dir, 'client-ca.crt'), '--max-pods', String(n), '--log-level', 'warn',
    ...(values['kube-api-qps'] !== undefined ? ['--kube-api-qps', values['kube-api-qps']] : []),
    ...(values['kube-api-burst'] !== undefined ? ['--kube-api-burst', values['kube-api-burst']] : []),
  ];
  const agent = spawn(process.execPath, [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), ...agentArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(agent);
  const agentExit = new Promise<number | null>((r) => agent.once('exit', (code) => r(code)));

  const admin = apiServer.kubeConfig();
  api = await adminClient(admin, parallelism);
  const core = api;
  // The node is registered and Ready: the agent is up.
  for (let waited = 0; ; waited += 100) {
    if (agent.exitCode !== null) throw new Error(`the agent exited (${agent.exitCode}) before its node was Ready`);
    const node = await core.call<V1Node>('GET', `/api/v1/nodes/${nodeName}`).catch(() => undefined);
    if (node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) break;
    if (waited > 60_000) throw new Error('the node was not Ready within 60 s');
    await sleep(100);
  }

  const running = new Set<string>();
  const present = new Set<string>();
  let allRunning!: () => void;
  let allGone: (() => void) | undefined;
  const everyPodRunning = new Promise<void>((r) => (allRunning = r));
  const seenPod = (type: string, pod: V1Pod) => {
    const name = pod.metadata?.name ?? '';
    if (type === 'DELETED') {
      present.delete(name);
      if (present.size === 0) allGone?.();
      return;
    }
    present.add(name);
    if (pod.status?.phase === 'Running' && !running.has(name)) {
      running.add(name);
      if (running.size === n) allRunning();
    }
  };
  // List, then watch from the list's version, again whenever the watch ends (as an informer):
  // the watch asks for bookmarks, without which client-node drops it after 30 quiet seconds.
  let watching = true;
  stopWatching = () => { watching = false; };
  const listAndWatch = async (): Promise<void> => {
    const list = await core.call<{ items: V1Pod[]; metadata: { resourceVersion: string } }>('GET', `/api/v1/namespaces/${namespace}/pods`);
    const names = new Set(list.items.map((p) => p.metadata?.name ?? ''));
    for (const name of [...present]) if (!names.has(name)) seenPod('DELETED', { metadata: { name } });
    for (const pod of list.items) seenPod('ADDED', pod);
    watcher = await new Watch(admin).watch(`/api/v1/namespaces/${namespace}/pods`, { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true },
      (type, pod: V1Pod) => { if (type !== 'BOOKMARK' && type !== 'ERROR') seenPod(type, pod); },
      (err) => {
        if (!watching) return;
        if (err && (err as Error).name !== 'AbortError') logger.warn({ err: String(err) }, 'the bench watch ended; watching again');
        setTimeout(() => void listAndWatch().catch((e) => logger.error({ err: String(e) }, 'the bench could not watch again')), 200);
      });
  };
  await listAndWatch();

  const podBody = (name: string): V1Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '86400'] }] },
  });

  // 1. Create and run.
  const cpuBefore = cpuSeconds(agent.pid!);
  const simCpuBefore = cpuSeconds(sim.pid!);
  const ownCpuBefore = process.cpuUsage();
  counting = true;
  const started = performance.now();
  const runWindow = { startUs: monotonicUs(), endUs: 0 };
  await inParallel(n, parallelism, (i) => core.call('POST', `/api/v1/namespaces/${namespace}/pods`, podBody(`bench-${i}`)));
  const createdS = (performance.now() - started) / 1000;
  const deadlineMs = 120_000 + n * 100;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    everyPodRunning,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${running.size} of ${n} pods Running after ${deadlineMs} ms`)), deadlineMs))),
    agentExit.then((code) => { throw new Error(`the agent exited (${code}) while pods started`); }),
  ]).finally(() => clearTimeout(timer));
  const runningS = (performance.now() - started) / 1000;
  runWindow.endUs = monotonicUs();
  counting = false;
  const cpuRun = cpuSeconds(agent.pid!) - cpuBefore;
  const simCpuRun = cpuSeconds(sim.pid!) - simCpuBefore;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  const requestsByCall: Record<string, number> = {};
  for (const r of agentRequests) requestsByCall[callOf(r)] = (requestsByCall[callOf(r)] ?? 0) + 1;

  // 2. Idle, all N Running.
  const idleCpuBefore = cpuSeconds(agent.pid!);
  const idleStarted = performance.now();
  const idleWindow = { startUs: monotonicUs(), endUs: 0 };
  await sleep(idleSeconds * 1000);
  idleWindow.endUs = monotonicUs();
  const idleCores = idleSeconds > 0 ? (cpuSeconds(agent.pid!) - idleCpuBefore) / ((performance.now() - idleStarted) / 1000) : 0;
  const rss = peakRssMb(agent.pid!);

  // 3. Delete all, until the API has none.
  const deleteStarted = performance.now();
  const everyPodGone = new Promise<void>((r) => (allGone = r));
  if (present.size === 0) allGone!();
  await inParallel(n, parallelism, (i) => core.call('DELETE', `/api/v1/namespaces/${namespace}/pods/bench-${i}`));
  const deleteDeadlineMs = 120_000 + n * 100;
  await Promise.race([
    everyPodGone,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${present.size} of ${n} pods still in the API after ${deleteDeadlineMs} ms`)), deleteDeadlineMs))),
  ]).finally(() => clearTimeout(timer));
  const deletedS = (performance.now() - deleteStarted) / 1000;

  await stopChild(agent);
  let profile: { run: SelfTimeRow[]; idle: SelfTimeRow[] } | undefined;
  if (profileDir) {
    const written = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile') && !profilesBefore.has(f))
      .map((f) => join(profileDir, f)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (!written[0]) throw new Error(`the agent wrote no .cpuprofile under ${profileDir}`);
    const cpuProfile = JSON.parse(readFileSync(written[0], 'utf8')) as CpuProfile;
    profile = { run: topSelfTime(cpuProfile, Number(values.top), runWindow), idle: topSelfTime(cpuProfile, Number(values.top), idleWindow) };
    for (const [phase, rows] of Object.entries(profile)) {
      console.error(`top self time, ${phase === 'run' ? 'create until all Running' : 'idle'} (${written[0]}):`);
      for (const row of rows) console.error(`  ${row.self_pct.toFixed(1).padStart(5)}%  ${row.self_s.toFixed(2).padStart(7)} s  ${row.function}  ${row.url}`);
    }
  }

  console.log(JSON.stringify({
    pods: n,
    seconds_to_all_running: round(runningS, 2),
    pods_per_second: round(n / runningS, 1),
    seconds_to_create: round(createdS, 2),
    agent_peak_rss_mb: rss,
    agent_cpu_seconds: round(cpuRun, 2),
    agent_idle_cpu_cores: round(idleCores, 3),
    // The rest of the machine during phase 1: this process (the dev control plane and the bench's client) and the runtime.
    control_plane_cpu_seconds: round((ownCpu.user + ownCpu.system) / 1e6, 2),
    sim_runtime_cpu_seconds: round(simCpuRun, 2),
    idle_seconds: idleSeconds,
    seconds_to_all_deleted: round(deletedS, 2),
    kube_api_qps: values['kube-api-qps'] !== undefined ? Number(values['kube-api-qps']) : 50,
    kube_api_burst: values['kube-api-burst'] !== undefined ? Number(values['kube-api-burst']) : 100,
    agent_requests: agentRequests.length,
    agent_requests_by_call: Object.fromEntries(Object.entries(requestsByCall).sort((a, b) => b[1] - a[1])),
    runtime: 'sim',
    ...(profile ? { profile_run: profile.run.slice(0, 10), profile_idle: profile.idle.slice(0, 10) } : {}),
  }));
} finally {
  stopWatching();
  watcher?.abort();
  api?.close();
  for (const child of children.reverse()) await stopChild(child);
  await apiServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
