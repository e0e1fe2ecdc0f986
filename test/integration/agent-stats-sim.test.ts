// The agent's resource figures over the simulated runtime (CRI ListContainerStats over gRPC):
// /stats/summary, /metrics/resource and /configz on the node API, behind its authentication and
// SubjectAccessReview like every route, and the dev control plane's metrics.k8s.io computed from
// the node's /metrics/resource, which `kubectl top` reads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Agent, fetch as fetchWith } from 'undici';
import type { CertificateAndKey } from '../../src/tls/certificates.ts';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import { defaultConfig, type AgentConfig } from '../../src/agent/config/agent-config.ts';
import { simAgentConfig } from '../helpers/sim-agent-config.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import type { Summary } from '../../src/agent/stats/summary.ts';
import { pollFor } from '../../src/world/wait.ts';
import { parseExposition } from '../helpers/prometheus-text.ts';

const silent = pino({ level: 'silent' });
const nodeName = 'stats-node';
let dir: string;
let apiServer: RunningApiServer;
let sim: SimRuntime;
let agent: RunningAgent | undefined;
let kube: CoreV1Api;
let kubeConfig: KubeConfig;
let admin: CertificateAndKey;
let nobody: CertificateAndKey;

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> =>
  pollFor(async () => (await probe()) || undefined, { what, timeoutMs, intervalMs: 50 });

async function nodeGet(path: string, who: CertificateAndKey = admin): Promise<{ status: number; type: string; body: string }> {
  const dispatcher = new Agent({ connect: { ca: agent!.servingCertificate.certPem, cert: who.certPem, key: who.keyPem } });
  try {
    const res = await fetchWith(`https://127.0.0.1:${agent!.port}${path}`, { dispatcher });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  } finally {
    await dispatcher.close();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-stats-'));
  apiServer = await startApiServer({ port: 0, logger: process.env.DBG ? pino({ level: 'info' }) : silent, binder: false });
  sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  kubeConfig = apiServer.kubeConfig();
  kube = kubeConfig.makeApiClient(CoreV1Api);
  // The node API trusts the cluster CA, so the control plane's kubelet client (and ours) get in;
  // what each may do is asked of the control plane by SubjectAccessReview.
  writeFileSync(join(dir, 'client-ca.crt'), apiServer.caCertPem);
  admin = await apiServer.issueClientCertificate('stats-admin', ['system:masters']);
  nobody = await apiServer.issueClientCertificate('nobody', []);
  // The control plane reaches the node at its InternalIP, as kube-apiserver does.
  const config: AgentConfig = simAgentConfig(dir, nodeName, sim.endpoint, { address: '0.0.0.0' });
  agent = await startAgent(config, { logger: silent, kubeConfig });
  const pod: V1Pod = {
    metadata: { name: 'busy', namespace: 'default', labels: { app: 'busy' } },
    spec: {
      nodeName, terminationGracePeriodSeconds: 1,
      containers: [
        { name: 'spin', image: 'busybox:1.36', command: ['sh', '-c', 'while true; do :; done'], resources: { limits: { cpu: '500m' } } },
        { name: 'idle', image: 'busybox:1.36', command: ['sleep', '3600'] },
      ],
    },
  };
  await kube.createNamespacedPod({ namespace: 'default', body: pod });
  await waitFor('busy Running', async () => (await kube.readNamespacedPod({ namespace: 'default', name: 'busy' })).status?.phase === 'Running');
});

after(async () => {
  try {
    await agent?.stop();
    await agent?.removeAllPods();
  } finally {
    await sim?.stop();
    await apiServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/stats/summary: the node from /proc and statfs, each pod and container from CRI, figures that move', async () => {
  const read = async () => {
    const a = await nodeGet('/stats/summary');
    assert.equal(a.status, 200, a.body);
    assert.match(a.type, /^application\/json/);
    return JSON.parse(a.body) as Summary;
  };
  const first = await read();
  assert.equal(first.node.nodeName, nodeName);
  assert.match(first.node.startTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(first.node.cpu!.usageCoreNanoSeconds! > 0);
  assert.ok(first.node.memory!.workingSetBytes! > 0 && first.node.memory!.availableBytes! > 0);
  assert.ok(first.node.fs!.capacityBytes! > 0 && first.node.fs!.inodes! > 0);
  const busy = first.pods.find((p) => p.podRef.name === 'busy')!;
  const uid = (await kube.readNamespacedPod({ namespace: 'default', name: 'busy' })).metadata!.uid;
  assert.deepEqual(busy.podRef, { name: 'busy', namespace: 'default', uid });
  assert.deepEqual(busy.containers.map((c) => c.name), ['idle', 'spin']);
  for (const c of busy.containers) {
    assert.ok(c.cpu!.usageCoreNanoSeconds! >= 0 && c.memory!.workingSetBytes! > 0, JSON.stringify(c));
    assert.match(c.startTime, /Z$/);
  }
  const sum = busy.containers.reduce((n, c) => n + c.memory!.workingSetBytes!, 0);
  assert.equal(busy.memory!.workingSetBytes, sum, 'pod memory is the sum of its containers');
  // The busy loop runs at its 500m limit; the simulated runtime gives the rate itself.
  assert.equal(busy.containers.find((c) => c.name === 'spin')!.cpu!.usageNanoCores, 500_000_000);

  const spin = (s: Summary) => s.pods.find((p) => p.podRef.name === 'busy')!.containers.find((c) => c.name === 'spin')!.cpu!.usageCoreNanoSeconds!;
  const later = await waitFor('spin to use more CPU', async () => {
    const s = await read();
    return spin(s) > spin(first) && s;
  });
  assert.ok(later.node.cpu!.usageCoreNanoSeconds! >= first.node.cpu!.usageCoreNanoSeconds!);

  const only = JSON.parse((await nodeGet('/stats/summary?only_cpu_and_memory=true')).body) as Summary;
  assert.equal(only.node.fs, undefined);
  assert.ok(only.node.cpu);
});

test('/metrics/resource: the kubelet names, with timestamps, for node, pods and containers', async () => {
  const a = await nodeGet('/metrics/resource');
  assert.equal(a.status, 200, a.body);
  assert.match(a.type, /^text\/plain; version=0\.0\.4/);
  const e = parseExposition(a.body);
  assert.equal(e.types.get('node_cpu_usage_seconds_total'), 'counter');
  assert.equal(e.types.get('container_memory_working_set_bytes'), 'gauge');
  for (const name of ['node_cpu_usage_seconds_total', 'node_memory_working_set_bytes', 'pod_cpu_usage_seconds_total', 'pod_memory_working_set_bytes',
    'container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_start_time_seconds', 'scrape_error', 'resource_scrape_error']) {
    assert.ok(e.types.has(name), `${name} is served`);
  }
  const labels = { container: 'spin', pod: 'busy', namespace: 'default' };
  assert.ok(e.value('container_cpu_usage_seconds_total', labels)! >= 0);
  assert.ok(e.value('container_memory_working_set_bytes', labels)! > 0);
  assert.ok(e.value('pod_memory_working_set_bytes', { pod: 'busy', namespace: 'default' })! > 0);
  assert.ok(Math.abs(e.value('container_start_time_seconds', labels)! - Date.now() / 1000) < 600);
  assert.equal(e.value('scrape_error'), 0);
  assert.match(a.body, /^container_cpu_usage_seconds_total\{container="spin",namespace="default",pod="busy"\} [\d.e+-]+ \d{13}$/m);
  assert.match(a.body, /^node_cpu_usage_seconds_total [\d.e+-]+ \d{13}$/m);
});

test('/configz: the configuration in effect under KubeletConfiguration names', async () => {
  const a = await nodeGet('/configz');
  assert.equal(a.status, 200, a.body);
  const { kubeletconfig } = JSON.parse(a.body) as { kubeletconfig: Record<string, any> };
  assert.equal(kubeletconfig.kind, 'KubeletConfiguration');
  assert.equal(kubeletconfig.authorization.mode, 'Webhook');
  assert.equal(kubeletconfig.authentication.webhook.cacheTTL, '2m0s');
  assert.equal(kubeletconfig.runtimeRequestTimeout, '10s');
  assert.equal(kubeletconfig.containerRuntimeEndpoint, sim.endpoint);
  assert.equal(kubeletconfig.maxPods, 110);
});

test('a caller without nodes/stats is refused /stats/summary (403), nodes/metrics guards /metrics/resource', async () => {
  const stats = await nodeGet('/stats/summary', nobody);
  assert.equal(stats.status, 403);
  assert.match(stats.body, /^Forbidden \(user=nobody, verb=get, resource=nodes, subresource\(s\)=\[stats\]\)/);
  const metrics = await nodeGet('/metrics/resource', nobody);
  assert.equal(metrics.status, 403);
  assert.match(metrics.body, /subresource\(s\)=\[metrics\]/);
  const configz = await nodeGet('/configz', nobody);
  assert.equal(configz.status, 403);
  assert.match(configz.body, /subresource\(s\)=\[configz proxy\]/);
});

test('metrics.k8s.io on the control plane: discovery, NodeMetrics and PodMetrics from two scrapes', async () => {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const nodes = await custom.listClusterCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', plural: 'nodes' }) as { kind: string; items: any[] };
  assert.equal(nodes.kind, 'NodeMetricsList');
  const node = nodes.items.find((n) => n.metadata.name === nodeName);
  assert.ok(node, JSON.stringify(nodes));
  assert.match(node.usage.cpu, /^\d+(n|u|m)?$/);
  assert.match(node.usage.memory, /^\d+(Ki|Mi|Gi)?$/);
  assert.match(node.window, /s$/);
  const pods = await custom.listNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: 'default', plural: 'pods' }) as { kind: string; items: any[] };
  assert.equal(pods.kind, 'PodMetricsList');
  const busy = pods.items.find((p) => p.metadata.name === 'busy');
  assert.ok(busy, JSON.stringify(pods));
  assert.deepEqual(busy.metadata.labels, { app: 'busy' });
  const spin = busy.containers.find((c: any) => c.name === 'spin');
  // 500m of CPU, measured over a window of about a second: between 400m and 600m.
  const n = Number(/^(\d+)n$/.exec(spin.usage.cpu)?.[1] ?? NaN);
  assert.ok(n > 4e8 && n < 6e8, spin.usage.cpu);
  const one = await custom.getNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: 'default', plural: 'pods', name: 'busy' }) as any;
  assert.equal(one.kind, 'PodMetrics');
  await assert.rejects(custom.getNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: 'default', plural: 'pods', name: 'absent' }), (err: any) => err.code === 404);
});
