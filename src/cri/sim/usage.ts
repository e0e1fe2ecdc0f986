// Resource usage of the simulated runtime's containers. Nothing runs, so the figures are played:
// each running container burns a steady share of a core picked from its id (2m to 30m), or a
// whole core, capped by its CPU limit, when its command is a busy loop (`while true`, `yes`);
// its working set sits at a few MiB picked from its id and drifts slowly, so `kubectl top` on
// `npm start` shows figures that move. CPU time is cumulative from the container's start, as a
// cgroup's usage_usec is.
import { createHash } from 'node:crypto';
import type { ContainerStats } from '../generated/runtime/v1/ContainerStats.ts';
import type { SimContainer } from './containers.ts';

const MiB = 1024 * 1024;

/** A number in [0, 1) fixed by the container's id. */
function seedOf(id: string, salt: string): number {
  return createHash('sha256').update(`${salt}:${id}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** Whether the command keeps a core busy: a shell loop without a sleep in it, or `yes`. */
export function isBusyLoop(argv: string[]): boolean {
  const text = argv.join(' ');
  if (/\byes\b/.test(text)) return true;
  return /\bwhile\s+(true|:)\s*;\s*do\b/.test(text) && !/\bsleep\b/.test(text);
}

/** Cores the container uses: its CPU limit when it has one and is busy, else a steady small share. */
export function simCpuCores(c: Pick<SimContainer, 'id' | 'config' | 'resources'>): number {
  const argv = [...(c.config.command ?? []), ...(c.config.args ?? [])];
  if (isBusyLoop(argv)) {
    const r = c.resources ?? c.config.linux?.resources;
    const quota = Number(r?.cpuQuota ?? 0);
    const period = Number(r?.cpuPeriod ?? 0);
    return quota > 0 && period > 0 ? Math.min(1, quota / period) : 1;
  }
  return 0.002 + seedOf(c.id, 'cpu') * 0.028;
}

/** The ContainerStats entry containerd would give for this container at `nowNs`. A container
 * that does not run has no CPU or memory figures, only its writable layer. */
export function simContainerStats(c: SimContainer, nowNs: number): ContainerStats {
  const layerBytes = 4096 * (1 + Math.floor(seedOf(c.id, 'layer') * 64));
  const stats: ContainerStats = {
    attributes: { id: c.id, metadata: c.metadata, labels: c.config.labels, annotations: c.config.annotations },
    writableLayer: { timestamp: nowNs, fsId: { mountpoint: '/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs' }, usedBytes: { value: layerBytes }, inodesUsed: { value: 1 + Math.floor(layerBytes / 4096) } },
    cpu: null,
    memory: null,
  };
  if (c.state !== 'CONTAINER_RUNNING' || !c.startedAt) return stats;
  const runningNs = Math.max(0, nowNs - c.startedAt);
  const cores = simCpuCores(c);
  const seconds = runningNs / 1e9;
  // A few MiB, grown over the first ten seconds, then drifting by up to ±12 % on a slow wave.
  const base = (3 + seedOf(c.id, 'mem') * 21) * MiB;
  const workingSet = Math.round(base * Math.min(1, 0.5 + seconds / 20) * (1 + 0.12 * Math.sin(seconds / 15 + seedOf(c.id, 'phase') * 6.28)));
  const usage = workingSet + Math.round(base * 0.25);
  stats.cpu = { timestamp: nowNs, usageCoreNanoSeconds: { value: Math.round(runningNs * cores) }, usageNanoCores: { value: Math.round(cores * 1e9) } };
  stats.memory = {
    timestamp: nowNs,
    workingSetBytes: { value: workingSet },
    usageBytes: { value: usage },
    rssBytes: { value: Math.round(workingSet * 0.8) },
    availableBytes: null,
    pageFaults: { value: Math.round(seconds * 40) },
    majorPageFaults: { value: 0 },
  };
  return stats;
}
