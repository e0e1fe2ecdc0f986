// /metrics/resource: the kubelet's resource metrics (its collectors/resource_metrics.go), the
// endpoint metrics-server scrapes. Cumulative CPU in core-seconds and working sets in bytes, for
// the node, each pod and each container, every sample stamped with the time it was read (ms), so
// a scraper can take a rate between two scrapes from the figures' own times.
//
// prom-client cannot put a timestamp on a sample, so the exposition is written here, in the same
// text format (0.0.4) and with prom-client's content type. Labels are sorted by name, as the
// kubelet's (client_golang's) output has them.
import { Registry } from 'prom-client';
import type { ContainerUsage } from '../../cri/runtime-manager/pod-runtime.ts';
import type { NodeFigures } from './summary.ts';

export const RESOURCE_METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

interface Family { name: string; help: string; type: 'counter' | 'gauge'; samples: string[] }

const families = {
  nodeCpu: ['node_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the node in core-seconds'],
  nodeMemory: ['node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes'],
  containerCpu: ['container_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the container in core-seconds'],
  containerMemory: ['container_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the container in bytes'],
  containerStart: ['container_start_time_seconds', 'gauge', '[STABLE] Start time of the container since unix epoch in seconds'],
  podCpu: ['pod_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds'],
  podMemory: ['pod_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the pod in bytes'],
  resourceScrapeError: ['resource_scrape_error', 'gauge', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise'],
  scrapeError: ['scrape_error', 'gauge', '[ALPHA] 1 if there was an error while getting container metrics, 0 otherwise'],
} as const;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Go's strconv 'g'-like float text, as Prometheus prints values: integers without a point. */
function value(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

function sample(name: string, labels: Record<string, string>, v: number, timestampMs?: number): string {
  const keys = Object.keys(labels).sort();
  const l = keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}` : '';
  return `${name}${l} ${value(v)}${timestampMs !== undefined ? ` ${Math.round(timestampMs)}` : ''}`;
}

export interface ResourceMetricsInputs {
  node: NodeFigures;
  containers: ContainerUsage[];
  /** Whether gathering the containers' figures failed (the runtime did not answer). */
  scrapeFailed: boolean;
}

export function renderResourceMetrics(inputs: ResourceMetricsInputs): string {
  const out = new Map<keyof typeof families, Family>();
  for (const [key, [name, type, help]] of Object.entries(families) as Array<[keyof typeof families, readonly [string, 'counter' | 'gauge', string]]>) {
    out.set(key, { name, type, help, samples: [] });
  }
  const add = (key: keyof typeof families, labels: Record<string, string>, v: number, ts?: number) => {
    const f = out.get(key)!;
    f.samples.push(sample(f.name, labels, v, ts));
  };
  const { node } = inputs;
  if (node.cpu) add('nodeCpu', {}, node.cpu.usageCoreNanoSeconds / 1e9, node.cpu.timestampMs);
  if (node.memory) add('nodeMemory', {}, node.memory.workingSetBytes, node.memory.timestampMs);

  const pods = new Map<string, { pod: string; namespace: string; cpu: number; cpuMs: number; cpuAll: boolean; mem: number; memMs: number; memAll: boolean }>();
  const sorted = [...inputs.containers].sort((a, b) => `${a.podNamespace}/${a.podName}/${a.name}`.localeCompare(`${b.podNamespace}/${b.podName}/${b.name}`));
  for (const c of sorted) {
    const labels = { container: c.name, pod: c.podName, namespace: c.podNamespace };
    if (c.cpu) add('containerCpu', labels, c.cpu.usageCoreNanoSeconds / 1e9, c.cpu.timestampMs);
    if (c.memory) add('containerMemory', labels, c.memory.workingSetBytes, c.memory.timestampMs);
    add('containerStart', labels, c.createdAtMs / 1000, c.createdAtMs);
    const p = pods.get(c.podUid) ?? { pod: c.podName, namespace: c.podNamespace, cpu: 0, cpuMs: 0, cpuAll: true, mem: 0, memMs: 0, memAll: true };
    if (c.cpu) {
      p.cpu += c.cpu.usageCoreNanoSeconds;
      p.cpuMs = Math.max(p.cpuMs, c.cpu.timestampMs);
    } else p.cpuAll = false;
    if (c.memory) {
      p.mem += c.memory.workingSetBytes;
      p.memMs = Math.max(p.memMs, c.memory.timestampMs);
    } else p.memAll = false;
    pods.set(c.podUid, p);
  }
  for (const p of pods.values()) {
    const labels = { pod: p.pod, namespace: p.namespace };
    if (p.cpuAll && p.cpuMs) add('podCpu', labels, p.cpu / 1e9, p.cpuMs);
    if (p.memAll && p.memMs) add('podMemory', labels, p.mem, p.memMs);
  }
  add('resourceScrapeError', {}, inputs.scrapeFailed ? 1 : 0);
  add('scrapeError', {}, inputs.scrapeFailed ? 1 : 0);

  const text: string[] = [];
  // Families by name, as the kubelet lists them; one without samples is left out, as there.
  for (const f of [...out.values()].filter((x) => x.samples.length).sort((a, b) => a.name.localeCompare(b.name))) {
    text.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.samples);
  }
  return `${text.join('\n')}\n`;
}
