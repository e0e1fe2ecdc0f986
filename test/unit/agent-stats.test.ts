// The pure parts of the resource figures: /proc parsers, the Summary's sums and rates, the
// /metrics/resource text, the control plane's metrics-server arithmetic and quantities, and the
// simulated runtime's busy-loop reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMeminfo, parseProcStat } from '../../src/agent/stats/node-proc.ts';
import { buildSummary, CpuRates, metaTime } from '../../src/agent/stats/summary.ts';
import { renderResourceMetrics } from '../../src/agent/stats/resource-metrics.ts';
import { containerUsage, cpuQuantity, memoryQuantity, nodeUsage, parseResourceMetrics, usageBetween } from '../../src/apiserver/metrics-api.ts';
import { isBusyLoop, simCpuCores } from '../../src/cri/sim/usage.ts';
import type { ContainerUsage } from '../../src/cri/runtime-manager/pod-runtime.ts';

test('parseProcStat: non-idle jiffies at USER_HZ 100 → nanoseconds, btime, CPU count', () => {
  const cases: Array<[string, string, ReturnType<typeof parseProcStat>]> = [
    ['user nice system irq softirq steal count; idle and iowait do not',
      'cpu  100 20 30 5000 70 4 6 10 0 0\ncpu0 50 10 15 2500 35 2 3 5 0 0\ncpu1 50 10 15 2500 35 2 3 5 0 0\nbtime 1700000000\n',
      { usageCoreNanoSeconds: (100 + 20 + 30 + 4 + 6 + 10) * 1e7, cpus: 2, bootTimeMs: 1_700_000_000_000 }],
    ['an old kernel with four columns', 'cpu 1 2 3 4\n', { usageCoreNanoSeconds: 6e7, cpus: 0 }],
    ['no aggregate line', 'cpu0 1 2 3 4\n', undefined],
    ['garbage in the aggregate line', 'cpu  a b c d\n', undefined],
  ];
  for (const [what, text, want] of cases) assert.deepEqual(parseProcStat(text), want, what);
});

test('parseMeminfo: kB → bytes, workingSet = MemTotal − MemAvailable, fallbacks', () => {
  const KiB = 1024;
  const cases: Array<[string, string, ReturnType<typeof parseMeminfo>]> = [
    ['a current kernel', 'MemTotal:       16000 kB\nMemFree:         4000 kB\nMemAvailable:   10000 kB\nBuffers: 100 kB\nCached: 5000 kB\nAnonPages: 3000 kB\n',
      { totalBytes: 16000 * KiB, freeBytes: 4000 * KiB, availableBytes: 10000 * KiB, workingSetBytes: 6000 * KiB, usageBytes: 12000 * KiB, rssBytes: 3000 * KiB }],
    ['no MemAvailable: free + buffers + cached', 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n',
      { totalBytes: 1000 * KiB, freeBytes: 100 * KiB, availableBytes: 400 * KiB, workingSetBytes: 600 * KiB, usageBytes: 900 * KiB }],
    ['no MemTotal', 'MemFree: 100 kB\n', undefined],
  ];
  for (const [what, text, want] of cases) assert.deepEqual(parseMeminfo(text), want, what);
});

test('CpuRates: nano-cores from consecutive readings; first, backwards and too-close readings', () => {
  const r = new CpuRates();
  assert.equal(r.rate('c', 1e9, 10_000), undefined, 'first reading');
  assert.equal(r.rate('c', 1.5e9, 11_000), 5e8, 'half a core over a second');
  assert.equal(r.rate('c', 1.6e9, 11_050), 5e8, 'within 100 ms: the previous rate');
  assert.equal(r.rate('c', 0, 12_000), undefined, 'counter went back (restart)');
  r.prune(new Set());
  assert.equal(r.rate('c', 1e9, 13_000), undefined, 'pruned: a first reading again');
});

const usage = (over: Partial<ContainerUsage>): ContainerUsage => ({
  podUid: 'u1', podName: 'p', podNamespace: 'ns', name: 'a', id: 'id-a', createdAtMs: 1_700_000_000_000,
  cpu: { timestampMs: 1_700_000_100_000, usageCoreNanoSeconds: 2e9 }, memory: { timestampMs: 1_700_000_100_000, workingSetBytes: 1000, usageBytes: 2000 }, ...over,
});

test('buildSummary: pod figures are the sums of their containers; names and start from the agent; rates', () => {
  const rates = new CpuRates();
  const inputs = {
    nodeName: 'n1', bootTimeMs: 1_600_000_000_500,
    node: { cpu: { timestampMs: 1_700_000_100_000, usageCoreNanoSeconds: 9e12 }, memory: { timestampMs: 1_700_000_100_000, availableBytes: 5, usageBytes: 7, workingSetBytes: 6 } },
    containers: [usage({}), usage({ name: 'b', id: 'id-b', cpu: { timestampMs: 1_700_000_100_000, usageCoreNanoSeconds: 1e9, usageNanoCores: 42 }, memory: { timestampMs: 1_700_000_100_000, workingSetBytes: 500 } })],
    pods: new Map([['u1', { name: 'p', namespace: 'ns', startTimeMs: 1_700_000_000_000 }]]),
  };
  const s = buildSummary(inputs, rates);
  assert.equal(s.node.startTime, '2020-09-13T12:26:40Z');
  assert.deepEqual(s.node.cpu, { time: metaTime(1_700_000_100_000), usageCoreNanoSeconds: 9e12 });
  assert.equal(s.pods.length, 1);
  const pod = s.pods[0]!;
  assert.deepEqual(pod.podRef, { name: 'p', namespace: 'ns', uid: 'u1' });
  assert.equal(pod.startTime, '2023-11-14T22:13:20Z');
  assert.deepEqual(pod.containers.map((c) => c.name), ['a', 'b']);
  assert.equal(pod.cpu!.usageCoreNanoSeconds, 3e9);
  assert.equal(pod.cpu!.usageNanoCores, undefined, 'a rate is summed only when every container has one');
  assert.equal(pod.memory!.workingSetBytes, 1500);
  assert.equal(pod.memory!.usageBytes, undefined, 'usage is summed only when every container has it');
  assert.equal(pod.containers[1]!.cpu!.usageNanoCores, 42, "the runtime's rate is kept");

  const later = buildSummary({ ...inputs, containers: [usage({ cpu: { timestampMs: 1_700_000_102_000, usageCoreNanoSeconds: 3e9 } })],
    node: { cpu: { timestampMs: 1_700_000_102_000, usageCoreNanoSeconds: 9e12 + 4e9 } } }, rates);
  assert.equal(later.pods[0]!.containers[0]!.cpu!.usageNanoCores, 5e8, 'half a core between the two readings');
  assert.equal(later.node.cpu!.usageNanoCores, 2e9);
});

test('renderResourceMetrics: kubelet names, sorted labels, ms timestamps, pod sums, scrape_error', () => {
  const text = renderResourceMetrics({
    node: { cpu: { timestampMs: 1_700_000_100_123, usageCoreNanoSeconds: 1.5e9 }, memory: { timestampMs: 1_700_000_100_123, availableBytes: 1, usageBytes: 2, workingSetBytes: 4096 } },
    containers: [usage({}), usage({ name: 'b', id: 'id-b', podUid: 'u2', podName: 'we"ird' })],
    scrapeFailed: false,
  });
  const lines = text.split('\n');
  assert.ok(lines.includes('# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds'));
  assert.ok(lines.includes('# TYPE node_cpu_usage_seconds_total counter'));
  assert.ok(lines.includes('node_cpu_usage_seconds_total 1.5 1700000100123'));
  assert.ok(lines.includes('node_memory_working_set_bytes 4096 1700000100123'));
  assert.ok(lines.includes('container_cpu_usage_seconds_total{container="a",namespace="ns",pod="p"} 2 1700000100000'));
  assert.ok(lines.includes('container_memory_working_set_bytes{container="b",namespace="ns",pod="we\\"ird"} 1000 1700000100000'));
  assert.ok(lines.includes('container_start_time_seconds{container="a",namespace="ns",pod="p"} 1700000000 1700000000000'));
  assert.ok(lines.includes('pod_cpu_usage_seconds_total{namespace="ns",pod="p"} 2 1700000100000'));
  assert.ok(lines.includes('scrape_error 0'));
  assert.ok(lines.includes('resource_scrape_error 0'));
  const names = lines.filter((l) => l.startsWith('# TYPE')).map((l) => l.split(' ')[2]);
  assert.deepEqual(names, [...names].sort(), 'families by name');
  const failed = renderResourceMetrics({ node: {}, containers: [], scrapeFailed: true });
  assert.equal(failed, '# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise\n# TYPE resource_scrape_error gauge\nresource_scrape_error 1\n'
    + '# HELP scrape_error [ALPHA] 1 if there was an error while getting container metrics, 0 otherwise\n# TYPE scrape_error gauge\nscrape_error 1\n');
});

test('metrics-server arithmetic: a scrape read back, CPU as a rate between two, new containers from their start', () => {
  const text = (cpuNode: number, cpuA: number, ts: number, startB?: number) => [
    '# TYPE node_cpu_usage_seconds_total counter',
    `node_cpu_usage_seconds_total ${cpuNode} ${ts}`,
    `node_memory_working_set_bytes 2097152 ${ts}`,
    `container_cpu_usage_seconds_total{container="a",namespace="ns",pod="p"} ${cpuA} ${ts}`,
    `container_memory_working_set_bytes{container="a",namespace="ns",pod="p"} 1048576 ${ts}`,
    `container_start_time_seconds{container="a",namespace="ns",pod="p"} 100 100000`,
    ...(startB !== undefined ? [
      `container_cpu_usage_seconds_total{container="b",namespace="ns",pod="p"} 0.25 ${ts}`,
      `container_memory_working_set_bytes{container="b",namespace="ns",pod="p"} 4096 ${ts}`,
      `container_start_time_seconds{container="b",namespace="ns",pod="p"} ${startB / 1000} ${startB}`] : []),
  ].join('\n');
  const prev = parseResourceMetrics(text(10, 1, 1_000_000), 1_000_005);
  const cur = parseResourceMetrics(text(12, 1.5, 1_002_000, 1_001_500), 1_002_005);
  assert.deepEqual(cur.node.cpu, { value: 12, timestampMs: 1_002_000 });
  assert.deepEqual(nodeUsage(prev, cur), { timestampMs: 1_002_000, windowMs: 2000, nanoCores: 1e9, memoryBytes: 2097152 });
  assert.deepEqual(containerUsage(prev, cur, 'ns', 'p', 'a'), { timestampMs: 1_002_000, windowMs: 2000, nanoCores: 2.5e8, memoryBytes: 1048576 });
  assert.deepEqual(containerUsage(prev, cur, 'ns', 'p', 'b'), { timestampMs: 1_002_000, windowMs: 500, nanoCores: 5e8, memoryBytes: 4096 }, 'from its start');
  assert.equal(containerUsage(prev, cur, 'ns', 'p', 'absent'), undefined);
  assert.equal(usageBetween({ value: 5, timestampMs: 1 }, { value: 4, timestampMs: 2 }, { value: 1, timestampMs: 2 }), undefined, 'counter went back');
  assert.equal(usageBetween({ value: 5, timestampMs: 2 }, { value: 6, timestampMs: 2 }, { value: 1, timestampMs: 2 }), undefined, 'no window');
});

test('quantities as metrics-server writes them', () => {
  const cpu: Array<[number, string]> = [[0, '0'], [123456, '123456n'], [5e6, '5m'], [2e9, '2'], [1500, '1500n'], [7000, '7u']];
  for (const [n, want] of cpu) assert.equal(cpuQuantity(n), want, `${n} nano-cores`);
  const mem: Array<[number, string]> = [[0, '0'], [1000, '1000'], [12345 * 1024, '12345Ki'], [64 * 1024 * 1024, '64Mi'], [3 * 1024 ** 3, '3Gi']];
  for (const [n, want] of mem) assert.equal(memoryQuantity(n), want, `${n} bytes`);
});

test('the simulated runtime: busy loops take their CPU limit, anything else a small share', () => {
  const loops: Array<[string[], boolean]> = [
    [['sh', '-c', 'while true; do :; done'], true],
    [['sh', '-c', 'while :; do :; done'], true],
    [['sh', '-c', 'while true; do sleep 1; done'], false],
    [['yes'], true],
    [['sleep', '3600'], false],
  ];
  for (const [argv, want] of loops) assert.equal(isBusyLoop(argv), want, argv.join(' '));
  const busy = { id: 'x', config: { command: ['sh', '-c', 'while true; do :; done'], args: [] }, resources: { cpuQuota: 25_000, cpuPeriod: 100_000 } } as never;
  assert.equal(simCpuCores(busy), 0.25);
  const idle = simCpuCores({ id: 'y', config: { command: ['sleep', '1'], args: [] }, resources: null } as never);
  assert.ok(idle >= 0.002 && idle < 0.03);
});
