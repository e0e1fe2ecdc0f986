// The agent's PLEG over the simulated runtime, in process. With container events the stream
// opens, the relist slows to its safety net (60 s here, longer than any wait below) and a
// container's crash reaches the pod's status with no relist in between: only the event path can
// do that. After the runtime restarts, the stream is opened again. Without events (containerd
// 1.6's UNIMPLEMENTED) the agent relists every second, and the same crash is seen by a relist.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Agent, fetch as fetchWith } from 'undici';
import { createCertificateAuthority, type CertificateAndKey } from '../../src/tls/certificates.ts';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import { defaultConfig, defaultIntervals } from '../../src/agent/config/agent-config.ts';
import { simAgentConfig } from '../helpers/sim-agent-config.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import { pollFor } from '../../src/world/wait.ts';
import { parseExposition, type Exposition } from '../helpers/prometheus-text.ts';

const silent = pino({ level: 'silent' });
const SAFETY_NET_MS = 60_000;
let dir: string;
let apiServer: RunningApiServer;
let kube: CoreV1Api;
let scraper: CertificateAndKey;

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> =>
  pollFor(async () => (await probe()) || undefined, { what, timeoutMs, intervalMs: 50 });

interface Node {
  name: string;
  sim: SimRuntime;
  agent: RunningAgent;
  dispatcher: Agent;
  metrics(): Promise<Exposition>;
  stop(): Promise<void>;
}

async function startNode(name: string, containerEvents: boolean): Promise<Node> {
  const nodeDir = join(dir, name);
  const sim = await startSimRuntime({ socketPath: join(nodeDir, 'sim.sock'), images: ['busybox:1.36'], containerEvents });
  const config = simAgentConfig(nodeDir, name, sim.endpoint, {
    authorization: { ...defaultConfig.authorization, mode: 'AlwaysAllow' },
    authentication: { ...defaultConfig.authentication, x509: { clientCAFile: join(dir, 'client-ca.crt') } },
    // The kubelet's generic period, and a safety net no wait below reaches.
    intervals: { ...simAgentConfig(nodeDir, name, sim.endpoint).intervals, plegRelistMs: defaultIntervals.plegRelistMs, eventedPlegRelistMs: SAFETY_NET_MS },
  });
  const agent = await startAgent(config, { logger: silent, kubeConfig: apiServer.kubeConfig() });
  const dispatcher = new Agent({ connect: { ca: agent.servingCertificate.certPem, cert: scraper.certPem, key: scraper.keyPem } });
  const node: Node = {
    name, sim, agent, dispatcher,
    async metrics() {
      const res = await fetchWith(`https://127.0.0.1:${agent.port}/metrics`, { dispatcher });
      assert.equal(res.status, 200);
      return parseExposition(await res.text());
    },
    async stop() {
      await dispatcher.close();
      await agent.stop();
      await agent.removeAllPods();
      await node.sim.stop();
    },
  };
  return node;
}

const value = (e: Exposition, metric: string) => e.value(metric) ?? 0;
const relists = async (node: Node) => value(await node.metrics(), 'kubelet_pleg_relist_duration_seconds_count');

const podSpec = (name: string, nodeName: string): V1Pod => ({
  metadata: { name, namespace: 'default' },
  spec: { nodeName, restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
});
const readPod = (name: string) => kube.readNamespacedPod({ namespace: 'default', name });
const waitRunning = (name: string) => waitFor(`${name} Running`, async () => {
  const p = await readPod(name);
  return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running && p;
});
/** Crashes the pod's container in the runtime, as the OOM killer would. */
function crash(node: Node, pod: V1Pod): void {
  const c = [...node.sim.state.containers.byId.values()].find((x) => x.config.labels['io.kubernetes.pod.uid'] === pod.metadata!.uid);
  assert.ok(c, 'the pod has a container in the runtime');
  assert.equal(node.sim.state.containers.crash(c.id, 137, 'OOMKilled'), true);
}
const waitCrashSeen = (name: string) => waitFor(`${name} Failed with OOMKilled`, async () => {
  const p = await readPod(name);
  const terminated = p.status?.containerStatuses?.[0]?.state?.terminated;
  return p.status?.phase === 'Failed' && terminated?.reason === 'OOMKilled' && terminated.exitCode === 137 && p;
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-evented-pleg-'));
  apiServer = await startApiServer({ port: 0, logger: silent, binder: false });
  kube = apiServer.kubeConfig().makeApiClient(CoreV1Api);
  const clientCa = await createCertificateAuthority('pleg-client-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  scraper = await clientCa.issue({ commonName: 'pleg-scraper', usages: ['clientAuth'] });
});

after(async () => {
  await apiServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('with container events: a pod runs, and its crash is seen without a relist; the stream comes back after a runtime restart', { timeout: 90_000 }, async () => {
  const node = await startNode('evented-node', true);
  try {
    await waitFor('the event stream to open', async () => value(await node.metrics(), 'kubelet_evented_pleg_connection_success_count') >= 1);
    const created = await kube.createNamespacedPod({ namespace: 'default', body: podSpec('evented', node.name) });
    await waitRunning('evented');
    const relistsBefore = await relists(node);

    crash(node, created);
    await waitCrashSeen('evented');
    assert.equal(await relists(node), relistsBefore, 'no relist ran between the crash and its status: the event carried it');
    const seen = await node.metrics();
    assert.ok(value(seen, 'kubelet_evented_pleg_connection_latency_seconds_count') >= 1, 'event ages are observed');
    assert.equal(value(seen, 'kubelet_evented_pleg_connection_error_count'), 0);

    // The runtime restarts (its containers live on): the stream ends, the agent relists at the
    // generic period meanwhile, and opens the stream again once the runtime is back.
    const state = node.sim.state;
    const socketPath = node.sim.endpoint.replace(/^unix:\/\//, '');
    await node.sim.stop();
    node.sim = await startSimRuntime({ socketPath, state });
    await waitFor('the stream to open again', async () => value(await node.metrics(), 'kubelet_evented_pleg_connection_success_count') >= 2, 30_000);
    assert.ok(value(await node.metrics(), 'kubelet_evented_pleg_connection_error_count') >= 1, 'the broken stream is counted');
  } finally {
    await node.stop();
  }
});

test('without container events (UNIMPLEMENTED): the agent relists every second, and a crash is seen by a relist', { timeout: 60_000 }, async () => {
  const node = await startNode('relist-node', false);
  try {
    const created = await kube.createNamespacedPod({ namespace: 'default', body: podSpec('relisted', node.name) });
    await waitRunning('relisted');
    const relistsBefore = await relists(node);
    crash(node, created);
    await waitCrashSeen('relisted');
    assert.ok(await relists(node) > relistsBefore, 'a relist saw the crash');
    const m = await node.metrics();
    assert.equal(value(m, 'kubelet_evented_pleg_connection_success_count'), 0, 'no stream ever opened');
    assert.equal(value(m, 'kubelet_evented_pleg_connection_error_count'), 1, 'UNIMPLEMENTED is asked once, not retried');
    // The generic period: intervals of about a second.
    const intervals = await waitFor('two relist intervals', async () => {
      const e = await node.metrics();
      return value(e, 'kubelet_pleg_relist_interval_seconds_count') >= 2 && e;
    });
    const mean = value(intervals, 'kubelet_pleg_relist_interval_seconds_sum') / value(intervals, 'kubelet_pleg_relist_interval_seconds_count');
    assert.ok(mean >= 0.9 && mean < 3, `relist interval ${mean.toFixed(2)} s is the 1 s generic period`);
  } finally {
    await node.stop();
  }
});
