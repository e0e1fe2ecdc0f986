// `npm run bench:startup -- --n 110 [--parallelism 8] [--rounds R]`: pod start-up on real containerd.
// Prints one JSON line. In one run against one fresh test world it measures
//   1. the raw CRI floor: the calls a kubelet makes for N one-container pods, no agent;
//   2. the agent: N pods created in the dev control plane, each timed from its create request
//      until a watch sees it Running and Ready, with the agent (a child process) doing the work;
// and reports agent_s / floor_s, per-pod latency, and the agent process's peak RSS (rss_mb,
// VmHWM), heap (heap_used_mb, heap_total_mb, external_mb, once all pods are Ready) and CPU.
// The agent half runs twice, on a bare node each time: with the pod timeline buffer (the default;
// the top-level figures) and with --pod-timelines=false (timelines_off); timelines_cost is the difference.
// With --rounds R it runs R pairs, in alternating order (on/off, off/on, ...) so neither side
// always goes first, and timelines_cost compares the medians (in percent of the off figures).
// MINI_KUBELET_MEMORY_PROBE_VERBOSE=1 prints its heap spaces and resident memory by mapping too.
// cri_calls_per_pod: CRI calls per pod by method, for the floor (the calls it makes to start the
// pods) and for the agent (its kubelet_runtime_operations_total on /metrics, scraped just before
// the pods are created and once all are Ready, the difference over N: every call in that window,
// the relists and status reads beside the pods' starts included).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { parseArgs } from 'node:util';
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { CriClient } from '../src/cri/client.ts';
import { criOperationName } from '../src/cri/operation-names.ts';
import { loadCriPackage } from '../src/cri/proto-loader.ts';
import { measureCriFloor } from '../src/world/bench-floor.ts';
import { startTestWorld } from '../src/world/test-world.ts';
import { busyboxPod, isRunningAndReady, namespace, startAgentHarness } from '../test/helpers/agent-harness.ts';
import { parseExposition } from '../test/helpers/prometheus-text.ts';

const { values } = parseArgs({
  options: { n: { type: 'string', default: '110' }, parallelism: { type: 'string', default: '8' }, rounds: { type: 'string', default: '1' } },
});
const n = Number(values.n);
const parallelism = Number(values.parallelism);
const rounds = Number(values.rounds);
if (![n, parallelism, rounds].every((v) => Number.isInteger(v) && v >= 1)) {
  console.error('usage: bench-startup --n N [--parallelism P] [--rounds R]  (positive integers)');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('bench-startup needs root: it runs a real containerd (the test world)');
  process.exit(1);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Peak resident set of a live process, in MiB (VmHWM). */
function peakRssMb(pid: number): number {
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return round(kb / 1024, 1);
}

const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** User + system CPU seconds a live process has used so far (/proc/<pid>/stat utime + stime). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** GET over TLS with a client certificate (the node API's self-signed serving certificate is not checked). */
function httpsGet(url: string, cert: { certPem: string; keyPem: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { cert: cert.certPem, key: cert.keyPem, rejectUnauthorized: false, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: ${res.statusCode} ${body.slice(0, 200)}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The CRI method (RunPodSandbox) of each kubelet operation name (run_podsandbox), from the proto's services. */
const criMethodOf = new Map<string, string>();
for (const service of [loadCriPackage().RuntimeService, loadCriPackage().ImageService]) {
  for (const method of Object.keys(service.service)) criMethodOf.set(criOperationName(method), method);
}

/** Calls per pod by CRI method, rounded to 2 decimals, most first; methods that round to 0 are left out. */
function perPod(calls: Record<string, number>, before: Record<string, number> = {}): Record<string, number> {
  const rows = Object.entries(calls)
    .map(([operation, count]) => [criMethodOf.get(operation) ?? operation, round((count - (before[operation] ?? 0)) / n, 2)] as const)
    .filter(([, perPodCount]) => perPodCount > 0);
  return Object.fromEntries(rows.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

// The agent's heap, from scripts/memory-probe.mjs preloaded into it: SIGUSR2 makes it write
// process.memoryUsage() to a file (and a heap snapshot with MINI_KUBELET_MEMORY_PROBE_SNAPSHOT=1).
const memoryProbeOut = join(mkdtempSync(join(tmpdir(), 'bench-memory-')), 'memory.json');
process.env.MINI_KUBELET_MEMORY_PROBE_OUT = memoryProbeOut;
process.env.MINI_KUBELET_AGENT_NODE_FLAGS = `${process.env.MINI_KUBELET_AGENT_NODE_FLAGS ?? ''} --import ${join(import.meta.dirname, 'memory-probe.mjs')}`;
async function agentMemory(pid: number): Promise<{ heap_used_mb: number; heap_total_mb: number; external_mb: number }> {
  rmSync(memoryProbeOut, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600 && !existsSync(memoryProbeOut); i++) await new Promise((r) => setTimeout(r, 100));
  const m = JSON.parse(readFileSync(memoryProbeOut, 'utf8')) as { heapUsed: number; heapTotal: number; external: number; snapshot?: string };
  if (m.snapshot) console.error(`heap snapshot: ${m.snapshot}`);
  if (process.env.MINI_KUBELET_MEMORY_PROBE_VERBOSE === '1') console.error(`agent memory: ${JSON.stringify(m)}`);
  const mb = (b: number) => round(b / 1024 / 1024, 1);
  return { heap_used_mb: mb(m.heapUsed), heap_total_mb: mb(m.heapTotal), external_mb: mb(m.external) };
}

/** Stops and removes every sandbox on the runtime, so the second agent starts on a bare node
 * (it would otherwise spend its start removing the first one's pods as orphans). */
async function removeEveryPod(endpoint: string): Promise<void> {
  const cri = CriClient.connect(endpoint);
  try {
    for (const s of (await cri.listPodSandbox()).items) {
      await cri.stopPodSandbox({ podSandboxId: s.id });
      await cri.removePodSandbox({ podSandboxId: s.id });
    }
  } finally {
    cri.close();
  }
}

const logger = pino({ level: process.env.MINI_KUBELET_WORLD_LOG ?? 'warn' }, pino.destination(2));
const cleanups: Array<() => Promise<void>> = [];
const world = await startTestWorld({ logger });
try {
  const cri = CriClient.connect(world.containerdEndpoint);
  const pullStarted = performance.now();
  await cri.pullImage({ image: { image: world.images.busybox } });
  const pullMs = Math.round(performance.now() - pullStarted);
  cri.close();
  const floor = await measureCriFloor({ endpoint: world.containerdEndpoint, image: world.images.busybox, n, parallelism, podLogDir: world.podLogDir, logger });

  // The agent half on the same containerd, with the pod timeline buffer (the default) and with
  // --pod-timelines=false, so what the spans cost shows in agent_s, ratio and rss_mb; each pair
  // in the other order than the last, each agent on a bare node.
  const on: Array<Awaited<ReturnType<typeof measureAgent>>> = [];
  const off: typeof on = [];
  for (let round = 0; round < rounds; round++) {
    for (const timelines of round % 2 === 0 ? [true, false] : [false, true]) {
      if (on.length + off.length > 0) await removeEveryPod(world.containerdEndpoint);
      const result = await measureAgent(`bench-node-${timelines ? 'on' : 'off'}-${round}`, timelines ? [] : ['--pod-timelines=false']);
      (timelines ? on : off).push(result);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const costPct = (pick: (r: (typeof on)[number]) => number) => round((median(on.map(pick)) / median(off.map(pick)) - 1) * 100, 1);
  const withTimelines = on[0]!;
  const withoutTimelines = off[0]!;

  console.log(JSON.stringify({
    n,
    floor_s: floor.floor_s,
    ...withTimelines,
    timelines_off: withoutTimelines,
    // What the timeline buffer costs: the medians of ratio and peak RSS with it against without it.
    timelines_cost: {
      rounds,
      ratio_on: on.map((r) => r.ratio), ratio_off: off.map((r) => r.ratio), ratio_pct: costPct((r) => r.ratio),
      rss_mb_on: on.map((r) => r.rss_mb), rss_mb_off: off.map((r) => r.rss_mb), rss_pct: costPct((r) => r.rss_mb),
    },
    parallelism,
    floor_pod_ms: floor.pod_ms,
    pull_ms: pullMs,
    cri_calls_per_pod: { agent: withTimelines.cri_calls_per_pod, agent_timelines_off: withoutTimelines.cri_calls_per_pod, floor: perPod(floor.cri_calls) },
    runtime: 'containerd',
  }));

  /** One agent (a child process, a fresh API server) starting the N pods; stopped afterwards. */
  async function measureAgent(nodeName: string, agentArgs: string[]) {
    const scope: Array<() => Promise<void>> = [];
    try {
      return await measureAgentIn(scope, nodeName, agentArgs);
    } finally {
      for (const cleanup of scope.reverse()) await cleanup().catch((err) => logger.error({ err }, 'bench cleanup failed'));
    }
  }

  async function measureAgentIn(scope: Array<() => Promise<void>>, nodeName: string, agentArgs: string[]) {
    const h = await startAgentHarness({ after: (fn) => void scope.push(fn) }, {
      world,
      nodeName,
      agentArgs,
      kubeletConfig: { fileCheckFrequency: '20s', nodeStatusUpdateFrequency: '10s' },
    });
    const agentPid = h.agent.pid;
    // The agent's own CRI counters, straight from its node API's /metrics (as a cluster admin).
    const nodeApiPort = (await h.core.readNode({ name: h.nodeName })).status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!nodeApiPort) throw new Error(`node ${h.nodeName} reports no kubelet endpoint port`);
    const adminCert = await h.api.issueClientCertificate('bench-admin', ['system:masters']);
    const agentCriCalls = async (): Promise<Record<string, number>> => {
      const exposition = parseExposition(await httpsGet(`https://127.0.0.1:${nodeApiPort}/metrics`, adminCert));
      const calls: Record<string, number> = {};
      for (const s of exposition.samples) {
        if (s.name === 'kubelet_runtime_operations_total' && s.labels.operation_type) calls[s.labels.operation_type] = s.value;
      }
      return calls;
    };
    const callsBeforePods = await agentCriCalls();
    const cpuBeforePods = cpuSeconds(agentPid);

    const createdAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    let allReady!: () => void;
    const everyPodReady = new Promise<void>((resolve) => (allReady = resolve));
    const watcher = await new Watch(h.kubeConfig).watch(`/api/v1/namespaces/${namespace}/pods`, {}, (type, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      if (type === 'DELETED' || readyAt.has(name) || !isRunningAndReady(pod)) return;
      readyAt.set(name, performance.now());
      if (readyAt.size === n) allReady();
    }, () => {});
    scope.push(async () => watcher.abort());

    const started = performance.now();
    await Promise.all(Array.from({ length: n }, async (_, i) => {
      const name = `bench-${i}`;
      createdAt.set(name, performance.now());
      await h.createPod(busyboxPod(name, world.images.busybox));
    }));
    const deadlineMs = 60_000 + n * 2_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      everyPodReady,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${readyAt.size} of ${n} pods Running and Ready after ${deadlineMs} ms`)), deadlineMs))),
    ]).finally(() => clearTimeout(timer));
    const agentS = Math.max(...readyAt.values()) - started;
    const podMs = [...readyAt].map(([name, at]) => at - createdAt.get(name)!).sort((a, b) => a - b);
    const cpuS = cpuSeconds(agentPid);
    const callsAfterPods = await agentCriCalls();
    const memory = await agentMemory(agentPid);

    return {
      agent_s: round(agentS / 1000, 2),
      ratio: round(agentS / 1000 / floor.floor_s, 2),
      p50_ms: Math.round(percentile(podMs, 50)),
      p99_ms: Math.round(percentile(podMs, 99)),
      rss_mb: peakRssMb(agentPid),
      ...memory,
      cpu_s: round(cpuS, 2),
      // CPU the agent spent on the N pods alone (cpu_s includes its own start-up).
      cpu_pods_s: round(cpuS - cpuBeforePods, 2),
      cri_calls_per_pod: perPod(callsAfterPods, callsBeforePods),
    };
  }
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => logger.error({ err }, 'bench cleanup failed'));
  await world.stop();
}
