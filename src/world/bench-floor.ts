// The raw CRI floor: the calls a kubelet makes to start N one-container pods (no agent in
// between), at a bounded parallelism, timed. Agent overhead is measured against this number
// in the same run (scripts/bench-startup.ts).
import { join } from 'node:path';
import type { Logger } from 'pino';
import { CriClient, type CriCallMetrics } from '../cri/client.ts';
import type { ContainerConfig, PodSandboxConfig } from '../cri/types.ts';

export interface CriFloorOptions {
  endpoint: string;
  /** An image already pulled into the runtime (busybox: it runs `sleep 3600`). */
  image: string;
  n: number;
  parallelism?: number;
  runtimeHandler?: string;
  /** Parent of the pods' log directories. */
  podLogDir: string;
  /** Prefix of pod names and UIDs, so runs never collide. */
  namePrefix?: string;
  logger?: Logger;
}

export interface CriFloorResult {
  n: number;
  parallelism: number;
  /** Wall time from the first RunPodSandbox to the last StartContainer returning. */
  floor_s: number;
  /** Per-pod start latency (sandbox + one container started). */
  pod_ms: { p50: number; p95: number; max: number };
  /** Wall time to stop and remove every pod afterwards. */
  cleanup_s: number;
  /** CRI calls made to start the N pods (not the cleanup), by the kubelet's operation name
   * (run_podsandbox, podsandbox_status, ...: operation_type of kubelet_runtime_operations_total). */
  cri_calls: Record<string, number>;
}

/** Counts calls by operation name, as the agent's kubelet_runtime_operations_total does. */
function countingMetrics(counts: Record<string, number>): CriCallMetrics {
  return {
    operation(name) {
      counts[name] ??= 0;
      return () => void counts[name]!++;
    },
  };
}

/** Runs `work` over items with at most `limit` in flight. */
async function eachWithLimit<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

function podConfigs(opts: CriFloorOptions, i: number): { sandbox: PodSandboxConfig; container: ContainerConfig } {
  const name = `${opts.namePrefix ?? 'floor'}-${i}`;
  const uid = `${name}-${process.pid}`;
  const labels = { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'bench', 'io.kubernetes.pod.uid': uid };
  return {
    sandbox: {
      metadata: { name, uid, namespace: 'bench', attempt: 0 },
      hostname: name,
      logDirectory: join(opts.podLogDir, `bench_${name}_${uid}`),
      labels,
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    },
    container: {
      metadata: { name: 'sleep', attempt: 0 },
      image: { image: opts.image },
      command: ['sleep', '3600'],
      logPath: 'sleep/0.log',
      labels: { ...labels, 'io.kubernetes.container.name': 'sleep' },
    },
  };
}

/** Starts N pods the way the kubelet's SyncPod does, then removes them; returns the timings. */
export async function measureCriFloor(opts: CriFloorOptions): Promise<CriFloorResult> {
  const parallelism = opts.parallelism ?? 8;
  const calls: Record<string, number> = {};
  const cri = CriClient.connect(opts.endpoint, { timeoutMs: 120_000, metrics: countingMetrics(calls) });
  const sandboxIds: string[] = [];
  const podMs: number[] = [];
  try {
    const started = performance.now();
    await eachWithLimit([...Array(opts.n).keys()], parallelism, async (i) => {
      const podStarted = performance.now();
      const { sandbox, container } = podConfigs(opts, i);
      // The kubelet's order: sandbox, its status (for the IP), image check, create, start.
      const { podSandboxId } = await cri.runPodSandbox({ config: sandbox, runtimeHandler: opts.runtimeHandler ?? '' });
      sandboxIds.push(podSandboxId);
      await cri.podSandboxStatus({ podSandboxId });
      const { image } = await cri.imageStatus({ image: { image: opts.image } });
      if (!image) throw new Error(`image ${opts.image} is not pulled; the floor excludes pulls`);
      const { containerId } = await cri.createContainer({ podSandboxId, config: container, sandboxConfig: sandbox });
      await cri.startContainer({ containerId });
      podMs.push(performance.now() - podStarted);
    });
    const floorS = (performance.now() - started) / 1000;
    const startCalls = { ...calls };
    opts.logger?.info({ step: 'bench.floor', ms: Math.round(floorS * 1000), n: opts.n, parallelism }, 'CRI floor measured');

    const cleanupStarted = performance.now();
    await removeSandboxes(cri, sandboxIds.splice(0), parallelism);
    const sorted = [...podMs].sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      n: opts.n,
      parallelism,
      floor_s: Math.round(floorS * 1000) / 1000,
      pod_ms: { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), max: round(sorted.at(-1) ?? 0) },
      cleanup_s: Math.round(performance.now() - cleanupStarted) / 1000,
      cri_calls: startCalls,
    };
  } finally {
    // On failure, do not leave half the pods running in the caller's runtime.
    await removeSandboxes(cri, sandboxIds, parallelism).catch(() => {});
    cri.close();
  }
}

async function removeSandboxes(cri: CriClient, ids: string[], parallelism: number): Promise<void> {
  await eachWithLimit(ids, parallelism, async (podSandboxId) => {
    await cri.stopPodSandbox({ podSandboxId });
    await cri.removePodSandbox({ podSandboxId });
  });
}
