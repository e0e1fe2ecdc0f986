// Resource usage of the running containers, for the agent's Summary API and /metrics/resource:
// ListContainers (running ones: who they are, when they were created) joined with
// ListContainerStats (what they use) by container id. Containers the kubelet did not make (no
// io.kubernetes.pod.uid label) and containers without figures are left out, as the kubelet's CRI
// stats provider leaves them out. Pod figures are the agent's to add up.
import type { CriClient } from '../client.ts';
import type { Container, ContainerStats } from '../types.ts';
import { CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from './labels.ts';
import type { ContainerUsage } from './pod-runtime.ts';

const nsToMs = (ns: number) => ns / 1e6;
/** A UInt64Value wrapper: absent (null) means the runtime did not say. */
const wrapped = (v: { value: number } | null | undefined): number | undefined => (v ? Number(v.value) : undefined);

/** One container's figures from its CRI stats entry; undefined when it is not a pod's container. */
export function containerUsageOf(c: Container, s: ContainerStats | undefined): ContainerUsage | undefined {
  const labels = c.labels ?? {};
  const podUid = labels[POD_UID_LABEL];
  const name = labels[CONTAINER_NAME_LABEL] ?? c.metadata?.name;
  if (!podUid || !name) return undefined;
  const usage: ContainerUsage = {
    podUid,
    podName: labels[POD_NAME_LABEL] ?? '',
    podNamespace: labels[POD_NAMESPACE_LABEL] ?? 'default',
    name,
    id: c.id,
    createdAtMs: nsToMs(c.createdAt),
  };
  const cpu = s?.cpu;
  const coreNs = wrapped(cpu?.usageCoreNanoSeconds);
  if (cpu && coreNs !== undefined) {
    const nanoCores = wrapped(cpu.usageNanoCores);
    usage.cpu = { timestampMs: nsToMs(cpu.timestamp), usageCoreNanoSeconds: coreNs, ...(nanoCores !== undefined ? { usageNanoCores: nanoCores } : {}) };
  }
  const mem = s?.memory;
  const workingSet = wrapped(mem?.workingSetBytes);
  if (mem && workingSet !== undefined) {
    usage.memory = { timestampMs: nsToMs(mem.timestamp), workingSetBytes: workingSet };
    const extra = { usageBytes: mem.usageBytes, rssBytes: mem.rssBytes, availableBytes: mem.availableBytes, pageFaults: mem.pageFaults, majorPageFaults: mem.majorPageFaults };
    for (const [k, v] of Object.entries(extra)) {
      const n = wrapped(v);
      if (n !== undefined) (usage.memory as Record<string, number>)[k] = n;
    }
  }
  const layer = wrapped(s?.writableLayer?.usedBytes);
  if (layer !== undefined) usage.writableLayerBytes = layer;
  return usage;
}

export async function listContainerUsage(runtime: CriClient): Promise<ContainerUsage[]> {
  const [{ containers }, { stats }] = await Promise.all([
    runtime.listContainers({ filter: { state: { state: 'CONTAINER_RUNNING' } } }),
    runtime.listContainerStats({ filter: {} }),
  ]);
  const byId = new Map(stats.map((s) => [s.attributes?.id ?? '', s]));
  const out: ContainerUsage[] = [];
  for (const c of containers) {
    const usage = containerUsageOf(c, byId.get(c.id));
    // A container the runtime has no figures for yet (just started) is not shown half-filled.
    if (usage?.cpu || usage?.memory) out.push(usage);
  }
  return out;
}
