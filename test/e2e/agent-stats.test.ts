// Resource figures on real containerd, as an operator meets them: `kubectl top node` and
// `kubectl top pod` (the dev control plane's metrics.k8s.io, from the node's /metrics/resource)
// show a busy loop's CPU, and the node's /stats/summary, /metrics/resource and /configz answer
// through the node proxy in the kubelet's shapes. A caller without nodes/stats gets a 403.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pollFor } from '../../src/world/wait.ts';
import { busyboxPod, isRunningAndReady, startAgentHarness } from '../helpers/agent-harness.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { parseExposition } from '../helpers/prometheus-text.ts';

const execFileAsync = promisify(execFile);

/** "250m" → 250, "1" → 1000 (kubectl top's CPU column). */
const millicores = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
/** "12Mi" → 12 (kubectl top's memory column is in Mi). */
const mebibytes = (q: string) => Number(q.replace(/Mi$/, ''));

test('kubectl top and the node\'s stats routes on real containerd', { timeout: 240_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t, { nodeName: 'stats-node' });
  await h.createPod(busyboxPod('spinner', h.world.images.busybox, {
    containers: [{ name: 'spin', image: h.world.images.busybox, command: ['sh', '-c', 'while true; do :; done'], resources: { limits: { cpu: '200m' } } }],
  }));
  await h.waitForPod('spinner', 'Running and Ready', isRunningAndReady);
  const proxy = (path: string) => h.kubectl('get', '--raw', `/api/v1/nodes/${h.nodeName}/proxy/${path}`);

  await t.test('kubectl top node shows the node\'s CPU and memory', async () => {
    const row = await pollFor(async () => {
      const out = await h.kubectl('top', 'node', h.nodeName, '--no-headers').catch(() => '');
      const [name, cpu, , mem] = out.trim().split(/\s+/);
      return name === h.nodeName && millicores(cpu!) > 0 && mebibytes(mem!) > 0 ? { cpu: cpu!, mem: mem! } : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, what: 'kubectl top node to show figures' });
    t.diagnostic(`kubectl top node: cpu ${row.cpu}, memory ${row.mem}`);
    assert.ok(millicores(row.cpu) >= 100, `the busy loop alone is about 200m: ${row.cpu}`);
  });

  await t.test('kubectl top pod shows the busy loop at about its CPU limit', async () => {
    const cpu = await pollFor(async () => {
      const out = await h.kubectl('top', 'pod', 'spinner', '--no-headers').catch(() => '');
      const [name, c] = out.trim().split(/\s+/);
      return name === 'spinner' && c && millicores(c) > 0 ? millicores(c) : undefined;
    }, { timeoutMs: 60_000, intervalMs: 500, what: 'kubectl top pod to show the spinner' });
    t.diagnostic(`kubectl top pod: cpu ${cpu}m`);
    assert.ok(cpu > 100 && cpu <= 260, `a 200m limit: ${cpu}m`);
    const raw = JSON.parse(await h.kubectl('get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/spinner'));
    assert.equal(raw.kind, 'PodMetrics');
    assert.equal(raw.containers[0].name, 'spin');
    assert.match(raw.containers[0].usage.cpu, /^\d+[num]?$/);
    assert.ok(Number(/^(\d+)/.exec(raw.containers[0].usage.memory)![1]) > 0, raw.containers[0].usage.memory);
  });

  await t.test('nodes/<node>/proxy/stats/summary: the Summary API shape with the pod\'s figures', async () => {
    const summary = JSON.parse(await proxy('stats/summary'));
    assert.equal(summary.node.nodeName, h.nodeName);
    assert.ok(summary.node.cpu.usageCoreNanoSeconds > 0);
    assert.ok(summary.node.memory.workingSetBytes > 0);
    assert.ok(summary.node.fs.capacityBytes > 0);
    const pod = summary.pods.find((p: any) => p.podRef.name === 'spinner');
    assert.ok(pod, JSON.stringify(summary.pods.map((p: any) => p.podRef)));
    assert.equal(pod.podRef.namespace, 'default');
    assert.match(pod.podRef.uid, /^[0-9a-f-]{36}$/);
    const spin = pod.containers.find((c: any) => c.name === 'spin');
    assert.ok(spin.cpu.usageCoreNanoSeconds > 0, JSON.stringify(spin));
    assert.ok(spin.memory.workingSetBytes > 0, JSON.stringify(spin));
    assert.match(spin.startTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(pod.cpu.usageCoreNanoSeconds, pod.containers.reduce((n: number, c: any) => n + c.cpu.usageCoreNanoSeconds, 0));
  });

  await t.test('nodes/<node>/proxy/metrics/resource: the kubelet\'s resource metrics', async () => {
    const e = parseExposition(await proxy('metrics/resource'));
    assert.ok(e.value('node_cpu_usage_seconds_total')! > 0);
    assert.ok(e.value('node_memory_working_set_bytes')! > 0);
    const labels = { container: 'spin', pod: 'spinner', namespace: 'default' };
    assert.ok(e.value('container_cpu_usage_seconds_total', labels)! > 0);
    assert.ok(e.value('container_memory_working_set_bytes', labels)! > 0);
    assert.ok(e.value('container_start_time_seconds', labels)! > 1e9);
    assert.ok(e.value('pod_cpu_usage_seconds_total', { pod: 'spinner', namespace: 'default' })! > 0);
    assert.equal(e.value('scrape_error'), 0);
  });

  await t.test('nodes/<node>/proxy/configz: {"kubeletconfig": ...} with KubeletConfiguration names', async () => {
    const { kubeletconfig } = JSON.parse(await proxy('configz'));
    assert.equal(kubeletconfig.kind, 'KubeletConfiguration');
    assert.equal(kubeletconfig.nodeStatusUpdateFrequency, '2s', 'the harness config file');
    assert.equal(kubeletconfig.authorization.mode, 'Webhook');
    assert.equal(kubeletconfig.containerRuntimeEndpoint, h.world.containerdEndpoint);
  });

  await t.test('a caller without nodes/stats gets a 403 from /stats/summary', async () => {
    await h.kubectl('create', 'serviceaccount', 'peeker');
    const token = (await h.kubectl('create', 'token', 'peeker')).trim();
    const node = await h.core.readNode({ name: h.nodeName });
    const url = `https://127.0.0.1:${node.status!.daemonEndpoints!.kubeletEndpoint!.Port}/stats/summary`;
    const { stdout } = await execFileAsync('curl', ['-sS', '-k', '-o', '-', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${token}`, url], { timeout: 30_000 });
    const cut = stdout.lastIndexOf('\n');
    assert.equal(stdout.slice(cut + 1), '403', stdout);
    assert.match(stdout.slice(0, cut), /^Forbidden \(user=system:serviceaccount:default:peeker, verb=get, resource=nodes, subresource\(s\)=\[stats\]\)/);
  });
});
