// /metrics on the node API of an in-process agent over real CRI gRPC to the simulated runtime:
// the exposition parses, and its values move as a pod is created, fails a sandbox, runs and is
// deleted. Every value is awaited by scraping until it holds, never after a fixed sleep.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Agent, fetch as fetchWith } from 'undici';
import { createCertificateAuthority } from '../../src/tls/certificates.ts';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import { defaultConfig, type AgentConfig } from '../../src/agent/config/agent-config.ts';
import { simAgentConfig } from '../helpers/sim-agent-config.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import { pollFor } from '../../src/world/wait.ts';
import { parseExposition, type Exposition } from '../helpers/prometheus-text.ts';

const silent = pino({ level: 'silent' });
const nodeName = 'metrics-node';
let dir: string;
let apiServer: RunningApiServer;
let sim: SimRuntime;
let agent: RunningAgent | undefined;
let kube: CoreV1Api;
let withCert: Agent;
let withoutCert: Agent;

const podSpec = (name: string): V1Pod => ({
  metadata: { name, namespace: 'default' },
  spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
});

async function scrape(dispatcher = withCert): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetchWith(`https://127.0.0.1:${agent!.port}/metrics`, { dispatcher });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}
const metrics = async (): Promise<Exposition> => {
  const { status, body } = await scrape();
  assert.equal(status, 200, body);
  return parseExposition(body);
};
/** Scrapes until `holds` is true of the exposition; resolves with that exposition. */
const metricsWhen = (what: string, holds: (e: Exposition) => boolean, timeoutMs = 15_000) =>
  pollFor(async () => {
    const e = await metrics();
    return holds(e) ? e : undefined;
  }, { what, timeoutMs, intervalMs: 50 });
const podPhase = async (name: string) => {
  try {
    return (await kube.readNamespacedPod({ namespace: 'default', name })).status?.phase;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return 'Gone';
    throw err;
  }
};
const waitPhase = (name: string, phase: string) => pollFor(async () => ((await podPhase(name)) === phase ? true : undefined), { what: `${name} ${phase}`, timeoutMs: 15_000, intervalMs: 50 });
const v = (e: Exposition, name: string, labels?: Record<string, string>) => e.value(name, labels) ?? 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-metrics-'));
  apiServer = await startApiServer({ port: 0, logger: silent, binder: false });
  sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  const kubeConfig = apiServer.kubeConfig();
  kube = kubeConfig.makeApiClient(CoreV1Api);
  const clientCa = await createCertificateAuthority('metrics-client-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  const client = await clientCa.issue({ commonName: 'metrics-scraper', usages: ['clientAuth'] });
  const config: AgentConfig = simAgentConfig(dir, nodeName, sim.endpoint, {
    podManifestPath: join(dir, 'manifests'),
    authorization: { ...defaultConfig.authorization, mode: 'AlwaysAllow' },
  });
  mkdirSync(config.podManifestPath!, { recursive: true });
  agent = await startAgent(config, { logger: silent, kubeConfig });
  withCert = new Agent({ connect: { ca: agent.servingCertificate.certPem, cert: client.certPem, key: client.keyPem } });
  withoutCert = new Agent({ connect: { ca: agent.servingCertificate.certPem } });
});

after(async () => {
  try {
    await withCert?.close();
    await withoutCert?.close();
    await agent?.stop();
    await agent?.removeAllPods();
  } finally {
    await sim?.stop();
    await apiServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/metrics serves the Prometheus text format with the kubelet metric names', async () => {
  const { status, type, body } = await scrape();
  assert.equal(status, 200, body);
  assert.match(type ?? '', /^text\/plain; version=0\.0\.4/);
  const e = parseExposition(body);
  assert.equal(e.value('kubelet_node_name', { node: nodeName }), 1);
  for (const name of [
    'kubelet_running_pods', 'kubelet_running_containers', 'kubelet_started_pods_total', 'kubelet_started_pods_errors_total',
    'kubelet_started_containers_total', 'kubelet_pod_start_duration_seconds', 'kubelet_pod_worker_duration_seconds',
    'kubelet_runtime_operations_total', 'kubelet_runtime_operations_duration_seconds', 'kubelet_runtime_operations_errors_total',
    'kubelet_pleg_relist_duration_seconds', 'kubelet_pleg_relist_interval_seconds', 'mini_kubelet_sync_step_duration_seconds',
  ]) assert.ok(e.types.has(name), `${name} is declared`);
  // Startup already spoke CRI (version, status, the startup relist) and PLEG relists every 200 ms.
  assert.ok(v(e, 'kubelet_runtime_operations_total', { operation_type: 'version' }) >= 1);
  await metricsWhen('a PLEG relist interval', (x) => v(x, 'kubelet_pleg_relist_interval_seconds_count') >= 1);
});

test('/metrics without credentials is a 401', async () => {
  const { status, body } = await scrape(withoutCert);
  assert.equal(status, 401);
  assert.doesNotMatch(body, /kubelet_/);
});

test('a pod that fails its first sandbox, then runs and is deleted, moves the counters, gauges and histograms', async () => {
  const before = await metrics();
  const base = (name: string, labels?: Record<string, string>) => v(before, name, labels);
  sim.faults.fail('RunPodSandbox', { times: 1, message: 'injected: no sandbox this time' });
  await kube.createNamespacedPod({ namespace: 'default', body: podSpec('counted') });
  await waitPhase('counted', 'Running');

  // The gauges follow PLEG relists: the one that first sees the sandbox may predate the container's start.
  const running = await metricsWhen('kubelet_running_pods and running containers to rise', (e) =>
    v(e, 'kubelet_running_pods') >= base('kubelet_running_pods') + 1
    && v(e, 'kubelet_running_containers', { container_state: 'running' }) >= base('kubelet_running_containers', { container_state: 'running' }) + 1);
  const grew = (name: string, by: number, labels?: Record<string, string>) =>
    assert.ok(v(running, name, labels) >= base(name, labels) + by, `${name}${labels ? JSON.stringify(labels) : ''}: ${base(name, labels)} → ${v(running, name, labels)}`);
  // One failed attempt and one that made the sandbox: both are starts, one an error.
  grew('kubelet_started_pods_total', 2);
  grew('kubelet_started_pods_errors_total', 1);
  grew('kubelet_started_containers_total', 1, { container_type: 'container' });
  grew('kubelet_runtime_operations_total', 2, { operation_type: 'run_podsandbox' });
  grew('kubelet_runtime_operations_errors_total', 1, { operation_type: 'run_podsandbox' });
  for (const op of ['create_container', 'start_container', 'list_containers', 'list_podsandbox']) {
    grew('kubelet_runtime_operations_total', 1, { operation_type: op });
    grew('kubelet_runtime_operations_duration_seconds_count', 1, { operation_type: op });
  }
  grew('kubelet_pod_worker_duration_seconds_count', 1, { operation_type: 'create' });
  assert.equal(v(running, 'kubelet_pod_start_duration_seconds_count'), base('kubelet_pod_start_duration_seconds_count') + 1, 'one start for one pod');
  assert.ok(v(running, 'kubelet_pod_start_duration_seconds_sum') > base('kubelet_pod_start_duration_seconds_sum'));
  for (const step of ['sandbox', 'create', 'start']) grew('mini_kubelet_sync_step_duration_seconds_count', 1, { step });

  await kube.deleteNamespacedPod({ namespace: 'default', name: 'counted' });
  await waitPhase('counted', 'Gone');
  const after = await metricsWhen('kubelet_running_pods to fall back', (e) => v(e, 'kubelet_running_pods') === base('kubelet_running_pods'));
  assert.ok(v(after, 'kubelet_pod_worker_duration_seconds_count', { operation_type: 'kill' }) >= 1);
  assert.ok(v(after, 'kubelet_runtime_operations_total', { operation_type: 'stop_container' }) >= 1);
  assert.ok(v(after, 'kubelet_runtime_operations_total', { operation_type: 'stop_podsandbox' }) >= 1);
  assert.ok(v(after, 'mini_kubelet_sync_step_duration_seconds_count', { step: 'kill' }) >= 1);
  assert.equal(v(after, 'kubelet_pod_start_duration_seconds_count'), v(running, 'kubelet_pod_start_duration_seconds_count'), 'deletion is no start');
});
