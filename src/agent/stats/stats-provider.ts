// Gathers what /stats/summary and /metrics/resource answer from: the node's figures (/proc/stat,
// /proc/meminfo, statfs of the root dir) and the runtime's per-container figures (PodRuntime.stats,
// CRI ListContainerStats underneath), with the pods the agent knows for names and start times.
// The pure parts are node-proc.ts, summary.ts and resource-metrics.ts.
import { readFile, statfs } from 'node:fs/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerUsage, PodRuntime } from '../../cri/runtime-manager/pod-runtime.ts';
import { parseMeminfo, parseProcStat } from './node-proc.ts';
import { renderResourceMetrics, RESOURCE_METRICS_CONTENT_TYPE } from './resource-metrics.ts';
import { buildSummary, CpuRates, type NodeFigures, type Summary } from './summary.ts';

export interface StatsProviderOptions {
  nodeName: string;
  rootDir: string;
  runtime: Pick<PodRuntime, 'stats'>;
  pods: () => V1Pod[];
  /** Where /proc is (tests point it at fixtures). Default /proc. */
  procDir?: string;
  now?: () => number;
  onError?: (what: string, err: unknown) => void;
}

export interface StatsProvider {
  summary(): Promise<Summary>;
  resourceMetrics(): Promise<{ contentType: string; body: string }>;
}

export function createStatsProvider(opts: StatsProviderOptions): StatsProvider {
  const procDir = opts.procDir ?? '/proc';
  const now = opts.now ?? Date.now;
  const rates = new CpuRates();
  let bootTimeMs: number | undefined;

  async function nodeFigures(): Promise<NodeFigures> {
    const [stat, meminfo, fs] = await Promise.all([
      readFile(`${procDir}/stat`, 'utf8').catch((err) => void opts.onError?.('read /proc/stat', err)),
      readFile(`${procDir}/meminfo`, 'utf8').catch((err) => void opts.onError?.('read /proc/meminfo', err)),
      statfs(opts.rootDir).catch((err) => void opts.onError?.(`statfs ${opts.rootDir}`, err)),
    ]);
    const at = now();
    const figures: NodeFigures = {};
    const cpu = stat ? parseProcStat(stat) : undefined;
    if (cpu) {
      figures.cpu = { timestampMs: at, usageCoreNanoSeconds: cpu.usageCoreNanoSeconds };
      bootTimeMs ??= cpu.bootTimeMs;
    }
    const mem = meminfo ? parseMeminfo(meminfo) : undefined;
    if (mem) {
      figures.memory = { timestampMs: at, availableBytes: mem.availableBytes, usageBytes: mem.usageBytes, workingSetBytes: mem.workingSetBytes, ...(mem.rssBytes !== undefined ? { rssBytes: mem.rssBytes } : {}) };
    }
    if (fs) {
      const b = Number(fs.bsize);
      figures.fs = {
        timestampMs: at,
        capacityBytes: Number(fs.blocks) * b,
        availableBytes: Number(fs.bavail) * b,
        usedBytes: (Number(fs.blocks) - Number(fs.bfree)) * b,
        inodes: Number(fs.files),
        inodesFree: Number(fs.ffree),
        inodesUsed: Number(fs.files) - Number(fs.ffree),
      };
    }
    return figures;
  }

  async function containers(): Promise<{ usage: ContainerUsage[]; failed: boolean }> {
    try {
      return { usage: await opts.runtime.stats(), failed: false };
    } catch (err) {
      opts.onError?.('container stats from the runtime', err);
      return { usage: [], failed: true };
    }
  }

  function knownPods() {
    const out = new Map<string, { name: string; namespace: string; startTimeMs?: number }>();
    for (const p of opts.pods()) {
      const uid = p.metadata?.uid;
      if (!uid) continue;
      const start = p.status?.startTime ? new Date(p.status.startTime as unknown as string).getTime() : NaN;
      out.set(uid, { name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? 'default', ...(Number.isFinite(start) ? { startTimeMs: start } : {}) });
    }
    return out;
  }

  return {
    async summary() {
      const [node, c] = await Promise.all([nodeFigures(), containers()]);
      if (c.failed) throw new Error('failed to get container stats from the runtime');
      return buildSummary({ nodeName: opts.nodeName, bootTimeMs: bootTimeMs ?? 0, node, containers: c.usage, pods: knownPods() }, rates);
    },
    async resourceMetrics() {
      const [node, c] = await Promise.all([nodeFigures(), containers()]);
      return { contentType: RESOURCE_METRICS_CONTENT_TYPE, body: renderResourceMetrics({ node, containers: c.usage, scrapeFailed: c.failed }) };
    },
  };
}
