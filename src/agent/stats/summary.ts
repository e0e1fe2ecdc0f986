// The kubelet's Summary API (/stats/summary, k8s.io/kubelet/pkg/apis/stats/v1alpha1), computed
// from plain figures: the node's (node-proc.ts, statfs) and each running container's (the
// runtime's ListContainerStats). Pod CPU and memory are the sums of their containers', as the
// kubelet's CRI stats provider adds them up. usageNanoCores, a rate, comes from the runtime when
// it gives one, else from the difference to the previous reading this agent kept (CpuRates), as
// the kubelet computes it for runtimes that do not. Pure: the caller passes the clock's reading.
import type { ContainerUsage } from '../../cri/runtime-manager/pod-runtime.ts';

/** metav1.Time's JSON form: RFC 3339 in UTC, whole seconds. */
export function metaTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface CpuStats { time: string; usageNanoCores?: number; usageCoreNanoSeconds?: number }
export interface MemoryStats {
  time: string; availableBytes?: number; usageBytes?: number; workingSetBytes?: number; rssBytes?: number; pageFaults?: number; majorPageFaults?: number;
}
export interface FsStats { time: string; availableBytes?: number; capacityBytes?: number; usedBytes?: number; inodesFree?: number; inodes?: number; inodesUsed?: number }
export interface ContainerStatsJson { name: string; startTime: string; cpu?: CpuStats; memory?: MemoryStats; rootfs?: FsStats }
export interface PodStatsJson {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStatsJson[];
  cpu?: CpuStats;
  memory?: MemoryStats;
  'ephemeral-storage'?: FsStats;
}
export interface NodeStatsJson { nodeName: string; startTime: string; cpu?: CpuStats; memory?: MemoryStats; fs?: FsStats }
export interface Summary { node: NodeStatsJson; pods: PodStatsJson[] }

export interface NodeFigures {
  cpu?: { timestampMs: number; usageCoreNanoSeconds: number };
  memory?: { timestampMs: number; availableBytes: number; usageBytes: number; workingSetBytes: number; rssBytes?: number };
  /** The filesystem of the agent's root dir (the kubelet's rootfs). */
  fs?: { timestampMs: number; capacityBytes: number; availableBytes: number; usedBytes: number; inodes: number; inodesFree: number; inodesUsed: number };
}

export interface SummaryInputs {
  nodeName: string;
  bootTimeMs: number;
  node: NodeFigures;
  containers: ContainerUsage[];
  /** What the agent knows of each pod, by uid: its start time (status.startTime) in particular. */
  pods: ReadonlyMap<string, { name: string; namespace: string; startTimeMs?: number }>;
}

/** Cumulative CPU readings kept per key (a container id, "node"), turned into nano-cores. */
export class CpuRates {
  private readonly last = new Map<string, { usage: number; atMs: number; rate?: number }>();

  /** The rate since this key's previous reading; undefined on the first. Readings closer than
   * 100 ms to the previous one keep its rate (too short a window to say more). */
  rate(key: string, usageCoreNanoSeconds: number, atMs: number): number | undefined {
    const prev = this.last.get(key);
    if (prev && atMs - prev.atMs < 100 && atMs >= prev.atMs) return prev.rate;
    let rate: number | undefined;
    if (prev && atMs > prev.atMs && usageCoreNanoSeconds >= prev.usage) {
      rate = Math.round(((usageCoreNanoSeconds - prev.usage) / (atMs - prev.atMs)) * 1e3);
    }
    this.last.set(key, { usage: usageCoreNanoSeconds, atMs, rate });
    return rate;
  }

  /** Forget keys not in `seen` (containers that went away). */
  prune(seen: ReadonlySet<string>): void {
    for (const key of this.last.keys()) if (!seen.has(key)) this.last.delete(key);
  }
}

function cpuOf(c: ContainerUsage['cpu'], rate: number | undefined): CpuStats | undefined {
  if (!c) return undefined;
  const nanoCores = c.usageNanoCores ?? rate;
  return { time: metaTime(c.timestampMs), ...(nanoCores !== undefined ? { usageNanoCores: nanoCores } : {}), usageCoreNanoSeconds: c.usageCoreNanoSeconds };
}

function memoryOf(m: ContainerUsage['memory']): MemoryStats | undefined {
  if (!m) return undefined;
  const { timestampMs, ...figures } = m;
  return { time: metaTime(timestampMs), ...figures };
}

/** Adds up numeric fields that every part has; a field missing in one part is left out. */
function sumFields<T extends { time: string }>(parts: T[], fields: Array<keyof T>, latestMs: number): T | undefined {
  if (!parts.length) return undefined;
  const out = { time: metaTime(latestMs) } as T;
  for (const f of fields) {
    if (parts.every((p) => typeof p[f] === 'number')) (out as Record<keyof T, unknown>)[f] = parts.reduce((n, p) => n + (p[f] as number), 0);
  }
  return out;
}

export function buildSummary(inputs: SummaryInputs, rates: CpuRates): Summary {
  const { node } = inputs;
  const seen = new Set<string>(['node']);
  const nodeRate = node.cpu ? rates.rate('node', node.cpu.usageCoreNanoSeconds, node.cpu.timestampMs) : undefined;
  const nodeStats: NodeStatsJson = {
    nodeName: inputs.nodeName,
    startTime: metaTime(inputs.bootTimeMs),
    ...(node.cpu ? { cpu: cpuOf(node.cpu, nodeRate) } : {}),
    ...(node.memory ? { memory: memoryOf(node.memory) } : {}),
    ...(node.fs ? { fs: (({ timestampMs, ...f }) => ({ time: metaTime(timestampMs), ...f }))(node.fs) } : {}),
  };

  const byPod = new Map<string, ContainerUsage[]>();
  for (const c of inputs.containers) {
    const list = byPod.get(c.podUid) ?? [];
    list.push(c);
    byPod.set(c.podUid, list);
  }
  const pods: PodStatsJson[] = [];
  for (const [uid, usages] of byPod) {
    const known = inputs.pods.get(uid);
    const first = usages[0]!;
    const containers: ContainerStatsJson[] = usages
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => {
        seen.add(c.id);
        const rate = c.cpu ? rates.rate(c.id, c.cpu.usageCoreNanoSeconds, c.cpu.timestampMs) : undefined;
        const cpu = cpuOf(c.cpu, rate);
        const memory = memoryOf(c.memory);
        return {
          name: c.name,
          startTime: metaTime(c.createdAtMs),
          ...(cpu ? { cpu } : {}),
          ...(memory ? { memory } : {}),
          ...(c.writableLayerBytes !== undefined ? { rootfs: { time: metaTime(c.cpu?.timestampMs ?? c.memory?.timestampMs ?? c.createdAtMs), usedBytes: c.writableLayerBytes } } : {}),
        };
      });
    const latest = (pick: (c: ContainerUsage) => number | undefined) => Math.max(0, ...usages.map(pick).filter((v): v is number => v !== undefined));
    const cpu = sumFields(containers.flatMap((c) => (c.cpu ? [c.cpu] : [])), ['usageNanoCores', 'usageCoreNanoSeconds'], latest((c) => c.cpu?.timestampMs));
    const memory = sumFields(containers.flatMap((c) => (c.memory ? [c.memory] : [])), ['usageBytes', 'workingSetBytes', 'rssBytes', 'pageFaults', 'majorPageFaults'], latest((c) => c.memory?.timestampMs));
    const rootfs = sumFields(containers.flatMap((c) => (c.rootfs ? [c.rootfs] : [])), ['usedBytes'], latest((c) => c.cpu?.timestampMs ?? c.memory?.timestampMs));
    pods.push({
      podRef: { name: known?.name ?? first.podName, namespace: known?.namespace ?? first.podNamespace, uid },
      startTime: metaTime(known?.startTimeMs ?? Math.min(...usages.map((c) => c.createdAtMs))),
      containers,
      ...(cpu ? { cpu } : {}),
      ...(memory ? { memory } : {}),
      ...(rootfs ? { 'ephemeral-storage': rootfs } : {}),
    });
  }
  pods.sort((a, b) => `${a.podRef.namespace}/${a.podRef.name}`.localeCompare(`${b.podRef.namespace}/${b.podRef.name}`));
  rates.prune(seen);
  return { node: nodeStats, pods };
}
