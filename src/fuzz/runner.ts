// The fuzz run: specs go to the API a window at a time (--parallel in flight); each accepted
// pod is watched until it settles in a precise state (verdict.ts) or its deadline passes, then
// deleted; a refused spec must be refused with 4xx. At the end, the run checks that the agent
// never crashed and that nothing is left in the runtime or on disk.
import { setTimeout as delay } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { pollFor } from '../world/wait.ts';
import { startCluster, type FuzzCluster, type FuzzRuntime } from './cluster.ts';
import { generateCase, type FuzzCase, type GenContext } from './generate-pod.ts';
import { classifyPod, type Verdict, type WarningEvent } from './verdict.ts';

export interface FuzzOptions {
  seed: number;
  count: number;
  /** Run only these spec indices (a reproduction). */
  only?: number[];
  runtime: FuzzRuntime;
  parallel: number;
  /** Per pod: from create to a settled verdict (default 30 s sim, 120 s containerd). */
  deadlineMs?: number;
  /** A precise, non-terminal state must hold this long to be the verdict (default 1.5 s sim, 4 s containerd). */
  settleMs?: number;
  logger: Logger;
  /** Called with each finished case (progress). */
  onCase?: (done: number, total: number) => void;
  keepState?: boolean;
  /** Submit no new spec once this returns true (a time budget, a signal); pods in flight finish. */
  shouldStop?: () => boolean;
}

export interface FuzzFailure { index: number; name: string; kind: string; detail: string }

export interface FuzzSummary {
  seed: number;
  count: number;
  runtime: FuzzRuntime;
  accepted: number;
  refused: number;
  refused_by: Record<string, number>;
  outcomes: Record<string, number>;
  verdicts: number;
  failures: FuzzFailure[];
  /** The API disagreed with kube-apiserver: accepted a spec it refuses, or refused a valid one. */
  api_divergences: FuzzFailure[];
  leaks: string[];
  agent_restarts: number;
  agent_pid_same: boolean;
  agent_errors: Record<string, number>;
  /** Specs submitted: less than count when shouldStop ended the run early. */
  submitted: number;
  /** Median and 95th percentile: create to verdict, delete to gone (ms). */
  timings: { verdict_p50: number; verdict_p95: number; delete_p50: number; delete_p95: number };
  elapsed_s: number;
}

const namespace = 'default';
const podsPath = `/api/v1/namespaces/${namespace}/pods`;

interface Tracked {
  c: FuzzCase;
  uid: string;
  deadline: number;
  state: 'watching' | 'deleting';
  last?: Verdict;
  lastPod?: V1Pod;
  since: number;
  deleteDeadline: number;
  createdAt: number;
  deletedAt?: number;
  events?: { at: number; warnings: WarningEvent[] };
}

function statusLine(pod: V1Pod | undefined): string {
  if (!pod) return 'absent';
  const s = pod.status ?? {};
  const cs = (list?: Array<{ name: string; state?: object; ready?: boolean; restartCount?: number }>) =>
    (list ?? []).map((c) => `${c.name}:${Object.entries(c.state ?? {}).map(([k, v]) => `${k}${(v as { reason?: string })?.reason ? `(${(v as { reason?: string }).reason})` : ''}`).join('')}${c.ready ? '+ready' : ''}`).join(',');
  return JSON.stringify({ phase: s.phase, reason: s.reason, message: s.message?.slice(0, 200), conditions: s.conditions?.map((c) => `${c.type}=${c.status}${c.reason ? `(${c.reason})` : ''}`), init: cs(s.initContainerStatuses), containers: cs(s.containerStatuses) });
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const deadlineMs = opts.deadlineMs ?? (opts.runtime === 'sim' ? 30_000 : 120_000);
  const settleMs = opts.settleMs ?? (opts.runtime === 'sim' ? 1500 : 4000);
  const cluster = await startCluster({ runtime: opts.runtime, logger: opts.logger, maxPods: Math.max(250, opts.parallel * 4), keep: opts.keepState });
  try {
    return await fuzzOn(cluster, opts, deadlineMs, settleMs, started);
  } finally {
    await cluster.stop();
  }
}

async function fuzzOn(cluster: FuzzCluster, opts: FuzzOptions, deadlineMs: number, settleMs: number, started: number): Promise<FuzzSummary> {
  const { api } = cluster;
  const runLabel: [string, string] = ['fuzz.mini-kubelet.dev/run', `s${opts.seed}`];
  const ctx: GenContext = {
    nodeName: cluster.nodeName, images: cluster.images, hostPortBase: 31000, configMap: 'fuzz-cm', secret: 'fuzz-secret',
    bogusRuntimeClass: 'fuzz-bogus-handler', runLabel,
  };
  await api.ok('POST', `/api/v1/namespaces/${namespace}/configmaps`, { metadata: { name: ctx.configMap }, data: { key: 'value', other: 'ünï' } });
  await api.ok('POST', `/api/v1/namespaces/${namespace}/secrets`, { metadata: { name: ctx.secret }, stringData: { key: 's3cret' } });
  await api.ok('POST', '/apis/node.k8s.io/v1/runtimeclasses', { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: ctx.bogusRuntimeClass }, handler: 'no-such-handler' });
  const firstPid = cluster.agent.pid;

  const summary: FuzzSummary = {
    seed: opts.seed, count: opts.only !== undefined ? opts.only.length : opts.count, runtime: opts.runtime, accepted: 0, refused: 0, refused_by: {}, outcomes: {}, verdicts: 0,
    failures: [], api_divergences: [], leaks: [], agent_restarts: 0, agent_pid_same: true, agent_errors: {}, submitted: 0,
    timings: { verdict_p50: 0, verdict_p95: 0, delete_p50: 0, delete_p95: 0 }, elapsed_s: 0,
  };
  const verdictMs: number[] = [];
  const deleteMs: number[] = [];
  const fail = (c: FuzzCase, kind: string, detail: string) => summary.failures.push({ index: c.index, name: c.name, kind, detail });
  const indices = opts.only !== undefined ? opts.only : Array.from({ length: opts.count }, (_, i) => i);
  let next = 0;
  let done = 0;
  const total = indices.length;
  const finish = () => opts.onCase?.(++done, total);
  const inflight = new Map<string, Tracked>();

  const submit = async (index: number) => {
    const c = generateCase(opts.seed, index, ctx);
    let res;
    try {
      res = await api.send('POST', `${podsPath}${c.strict ? '?fieldValidation=Strict' : ''}`, c.pod);
    } catch (err) {
      fail(c, 'api-error', `create: ${(err as Error).message}`);
      finish();
      return;
    }
    if (res.status === 201 || res.status === 200) {
      summary.accepted++;
      if (c.expect === 'refuse') summary.api_divergences.push({ index, name: c.name, kind: 'accepted', detail: `kube-apiserver refuses ${c.mutation}; this API accepted it` });
      const now = Date.now();
      inflight.set(c.name, { c, uid: res.body?.metadata?.uid, deadline: now + deadlineMs, state: 'watching', since: now, deleteDeadline: 0, createdAt: now });
      return;
    }
    if (res.status >= 400 && res.status < 500) {
      summary.refused++;
      const key = c.mutation ?? `valid:${res.status}`;
      summary.refused_by[key] = (summary.refused_by[key] ?? 0) + 1;
      if (c.expect === 'accept') summary.api_divergences.push({ index, name: c.name, kind: 'refused', detail: `HTTP ${res.status}: ${String(res.body?.message ?? res.text).slice(0, 300)}` });
    } else {
      fail(c, 'api-error', `create: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
    }
    finish();
  };

  const warningsOf = async (t: Tracked, now: number): Promise<WarningEvent[]> => {
    if (t.events && now - t.events.at < 1000) return t.events.warnings;
    const res = await api.send('GET', `/api/v1/namespaces/${namespace}/events?fieldSelector=${encodeURIComponent(`involvedObject.uid=${t.uid}`)}`);
    const warnings = ((res.body?.items ?? []) as Array<{ type?: string; reason?: string; message?: string }>).filter((e) => e.type === 'Warning');
    t.events = { at: now, warnings };
    return warnings;
  };

  const record = async (t: Tracked, v: Verdict, pod: V1Pod | undefined) => {
    summary.verdicts++;
    summary.outcomes[v.outcome] = (summary.outcomes[v.outcome] ?? 0) + 1;
    if (!v.precise) fail(t.c, 'no-precise-reason', `${v.outcome}: ${v.why}; last status ${statusLine(pod)}`);
    t.state = 'deleting';
    t.deletedAt = Date.now();
    verdictMs.push(t.deletedAt - t.createdAt);
    const grace = Number(t.c.pod.spec?.terminationGracePeriodSeconds ?? 30);
    t.deleteDeadline = Date.now() + grace * 1000 + (opts.runtime === 'sim' ? 30_000 : 90_000);
    const res = await api.send('DELETE', `${podsPath}/${encodeURIComponent(t.c.name)}`).catch((err: Error) => ({ status: 0, text: err.message }));
    if (res.status !== 200 && res.status !== 202 && res.status !== 404) fail(t.c, 'delete-error', `HTTP ${res.status}: ${res.text.slice(0, 300)}`);
  };

  const checkAgent = async () => {
    if (cluster.agent.alive()) return;
    summary.agent_restarts++;
    summary.agent_pid_same = false;
    opts.logger.error({ crash: cluster.agent.crashes.at(-1) }, 'the agent exited; starting it again');
    await cluster.agent.start();
  };

  while (next < indices.length || inflight.size > 0) {
    await checkAgent();
    const room = opts.parallel - inflight.size;
    const batch: Array<Promise<void>> = [];
    if (opts.shouldStop?.()) next = indices.length;
    for (let i = 0; i < room && next < indices.length; i++) {
      summary.submitted++;
      batch.push(submit(indices[next++]!));
    }
    await Promise.all(batch);
    if (inflight.size === 0) continue;

    const list = await api.send('GET', `${podsPath}?labelSelector=${encodeURIComponent(`${runLabel[0]}=${runLabel[1]}`)}`).catch(() => undefined);
    if (!list || list.status !== 200) {
      await delay(200);
      continue;
    }
    const pods = new Map<string, V1Pod>();
    for (const p of (list.body?.items ?? []) as V1Pod[]) pods.set(p.metadata!.name!, p);
    const now = Date.now();
    for (const [name, t] of [...inflight]) {
      const pod = pods.get(name);
      const samePod = pod && pod.metadata?.uid === t.uid ? pod : undefined;
      if (t.state === 'deleting') {
        if (!samePod) {
          deleteMs.push(now - t.deletedAt!);
          inflight.delete(name);
          finish();
        } else if (now > t.deleteDeadline) {
          fail(t.c, 'not-deleted', `still in the API ${Math.round((now - t.deleteDeadline) / 1000 + (t.deleteDeadline - now) / 1000)} s after its delete deadline: ${statusLine(samePod)}`);
          // Forced, so the run goes on; the leak check sees what the agent left.
          await api.send('DELETE', `${podsPath}/${encodeURIComponent(name)}?gracePeriodSeconds=0`).catch(() => undefined);
          inflight.delete(name);
          finish();
        }
        continue;
      }
      if (!samePod) {
        fail(t.c, 'vanished', `the pod left the API before its verdict; last status ${statusLine(t.lastPod)}`);
        inflight.delete(name);
        finish();
        continue;
      }
      let v = classifyPod(samePod);
      if (!v.precise && samePod.status?.phase === 'Pending') v = classifyPod(samePod, await warningsOf(t, now).catch(() => []));
      if (!t.last || t.last.outcome !== v.outcome || t.last.precise !== v.precise) t.since = now;
      t.last = v;
      t.lastPod = samePod;
      const settled = v.precise && (v.terminal || now - t.since >= settleMs);
      if (settled || now >= t.deadline) await record(t, v, samePod);
    }
    await delay(opts.runtime === 'sim' ? 300 : 500);
  }

  await checkAgent();
  // The agent removes what deleted pods left behind in the runtime and on disk; give it time.
  const leakDeadlineMs = opts.runtime === 'sim' ? 30_000 : 90_000;
  let leaks: string[] = [];
  await pollFor(async () => {
    leaks = await cluster.leaks();
    return leaks.length === 0;
  }, { what: 'no leaks', timeoutMs: leakDeadlineMs, intervalMs: 500 }).catch(() => undefined);
  summary.leaks = leaks;
  summary.agent_pid_same = summary.agent_pid_same && cluster.agent.pid === firstPid && cluster.agent.alive();
  summary.agent_errors = cluster.agent.errorMessages();
  const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]! : 0);
  summary.timings = { verdict_p50: pct(verdictMs, 0.5), verdict_p95: pct(verdictMs, 0.95), delete_p50: pct(deleteMs, 0.5), delete_p95: pct(deleteMs, 0.95) };
  summary.elapsed_s = Math.round((Date.now() - started) / 1000);
  return summary;
}
