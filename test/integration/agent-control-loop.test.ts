// The agent against the dev API server, with an in-memory runtime: node registration, lease,
// pods from watch to Running and back, static pods with mirrors, admission, retries, and
// independence of pods. (agent-sim-runtime.test.ts runs the same path over real CRI gRPC.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Agent, fetch as fetchWith } from 'undici';
import { createCertificateAuthority, type CertificateAndKey } from '../../src/tls/certificates.ts';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { defaultConfig, type AgentConfig } from '../../src/agent/config/agent-config.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import { FakePodRuntime } from '../helpers/fake-pod-runtime.ts';
import { pollFor } from '../../src/world/wait.ts';

const silent = pino({ level: 'silent' });
const nodeName = 'fake-node';
let dir: string;
let apiServer: RunningApiServer;
let agent: RunningAgent;
let runtime: FakePodRuntime;
let kube: CoreV1Api;
let coordination: CoordinationV1Api;
/** A client certificate of the agent's --client-ca-file, for the node API. */
let nodeApiClient: CertificateAndKey;

/** The value the probe yields once it yields one (errors count as not yet). */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> =>
  pollFor(async () => (await probe()) || undefined, { what, timeoutMs, intervalMs: 50 });

const podSpec = (name: string, over: Partial<V1Pod['spec']> = {}): V1Pod => ({
  metadata: { name, namespace: 'default' },
  spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }], ...over },
});

const readPod = (name: string) => kube.readNamespacedPod({ namespace: 'default', name });
const createPod = (pod: V1Pod) => kube.createNamespacedPod({ namespace: 'default', body: pod });
const waitGone = (name: string) => waitFor(`${name} gone from the API`, async () => {
  try {
    await readPod(name);
    return false;
  } catch (err) {
    return (err as { code?: number }).code === 404;
  }
});
const readLease = () => coordination.readNamespacedLease({ namespace: 'kube-node-lease', name: nodeName });
const isRunningAndReady = (p: V1Pod) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-loop-'));
  apiServer = await startApiServer({ port: 0, logger: silent, binder: false });
  runtime = new FakePodRuntime();
  const clientCa = await createCertificateAuthority('loop-client-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  nodeApiClient = await clientCa.issue({ commonName: 'loop-admin', usages: ['clientAuth'] });
  const config: AgentConfig = {
    ...defaultConfig,
    nodeName,
    rootDir: join(dir, 'root'),
    podLogsDir: join(dir, 'logs'),
    podManifestPath: join(dir, 'manifests'),
    port: 0,
    healthzPort: 0,
    address: '127.0.0.1',
    nodeLabels: { 'example.com/pool': 'test' },
    authentication: { ...defaultConfig.authentication, x509: { clientCAFile: join(dir, 'client-ca.crt') } },
    // Certificate holders are allowed without asking the API server (its SubjectAccessReview is
    // exercised by the node API security tests).
    authorization: { ...defaultConfig.authorization, mode: 'AlwaysAllow' },
    intervals: { ...defaultConfig.intervals, leaseRenewMs: 200, nodeStatusUpdateMs: 200, plegRelistMs: 100, staticPodRescanMs: 300 },
  };
  const { mkdirSync } = await import('node:fs');
  mkdirSync(config.podManifestPath!, { recursive: true });
  const kubeConfig = apiServer.kubeConfig();
  agent = await startAgent(config, { logger: silent, runtime, kubeConfig });
  kube = kubeConfig.makeApiClient(CoreV1Api);
  coordination = kubeConfig.makeApiClient(CoordinationV1Api);
});

after(async () => {
  await agent?.stop();
  // Pods' volumes may be tmpfs mounts (as root): unmounted before the directory goes.
  await agent?.removeAllPods();
  await apiServer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the node registers with labels, capacity and Ready', async () => {
  const node = await waitFor('a Ready node', async () => {
    const n = await kube.readNode({ name: nodeName });
    return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && n;
  });
  assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], nodeName);
  assert.equal(node.metadata?.labels?.['example.com/pool'], 'test');
  assert.ok(Number(node.status?.capacity?.cpu) >= 1);
  assert.match(String(node.status?.allocatable?.memory), /^\d+Ki$/);
  assert.equal(node.status?.capacity?.pods, '110');
  assert.equal(node.status?.nodeInfo?.containerRuntimeVersion, 'fake://0.0.1');
  assert.equal(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, agent.port);
});

test('the lease is renewed', async () => {
  const first = await waitFor('the lease', readLease);
  assert.equal(first.spec?.holderIdentity, nodeName);
  assert.equal(first.spec?.leaseDurationSeconds, 40);
  assert.equal(first.metadata?.ownerReferences?.[0].kind, 'Node');
  await waitFor('a renewal', async () => {
    const l = await readLease();
    return new Date(l.spec!.renewTime!).getTime() > new Date(first.spec!.renewTime!).getTime();
  });
});

test('a pod runs with an IP and Ready, then deletion removes it', async () => {
  await createPod(podSpec('web'));
  const running = await waitFor('web Running and Ready', async () => {
    const p = await readPod('web');
    return isRunningAndReady(p) && p;
  });
  assert.match(running.status!.podIP!, /^10\.88\.0\.\d+$/);
  assert.equal(running.status?.containerStatuses?.[0].ready, true);
  assert.ok(running.status?.containerStatuses?.[0].state?.running);

  await kube.deleteNamespacedPod({ namespace: 'default', name: 'web' });
  await waitGone('web');
  assert.equal(runtime.callsFor('web', 'killPod')[0]?.gracePeriodSeconds, 1);
  assert.equal([...runtime.pods.values()].some((p) => p.name === 'web'), false);
});

test('a deletion whose kill fails keeps the pod Terminating on the API server until a retry stops it', async () => {
  await createPod(podSpec('sticky'));
  await waitFor('sticky Running', async () => isRunningAndReady(await readPod('sticky')));
  runtime.killFailures.set('sticky', 3);
  await kube.deleteNamespacedPod({ namespace: 'default', name: 'sticky' });
  await waitGone('sticky');
  // The node confirmed the deletion only once a kill had worked: nothing is left behind it.
  assert.equal([...runtime.pods.values()].some((p) => p.name === 'sticky'), false, 'nothing left in the runtime');
  assert.equal(runtime.killFailures.get('sticky'), 0, 'every failed kill was retried');
  const events = await kube.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=sticky' });
  assert.ok(events.items.some((e) => e.reason === 'FailedKillPod'), 'the failed kill is an event');
});

test('a static pod runs and shows up as a mirror pod', async () => {
  writeFileSync(join(dir, 'manifests', 'static-web.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\nspec:\n  containers:\n  - name: app\n    image: busybox\n');
  const mirror = await waitFor('the mirror pod Running', async () => {
    const p = await readPod(`static-web-${nodeName}`);
    return p.status?.phase === 'Running' && p;
  });
  assert.equal(mirror.metadata?.annotations?.['kubernetes.io/config.source'], 'file');
  assert.ok(mirror.metadata?.annotations?.['kubernetes.io/config.mirror']);
  assert.equal(mirror.metadata?.ownerReferences?.[0].kind, 'Node');
});

test('admission rejects a pod asking for more cpu than the node has', async () => {
  await createPod(podSpec('greedy', { containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu: '1000' } } }] }));
  const failed = await waitFor('greedy Failed', async () => {
    const p = await readPod('greedy');
    return p.status?.phase === 'Failed' && p;
  });
  assert.equal(failed.status?.reason, 'OutOfcpu');
  assert.match(failed.status!.message!, /Node didn't have enough resource: cpu, requested: 1000000, used: \d+, capacity: \d+/);
  assert.equal(runtime.callsFor('greedy', 'executePodActions').length, 0, 'a rejected pod never reaches the runtime');
});

test('a slow sandbox for one pod does not hold up another', async () => {
  runtime.sandboxDelayMs.set('slow', 3000);
  await createPod(podSpec('slow'));
  await waitFor('slow to reach the runtime', async () => runtime.callsFor('slow', 'executePodActions').length > 0);
  await createPod(podSpec('quick'));
  await waitFor('quick Running', async () => isRunningAndReady(await readPod('quick')), 2500);
  assert.notEqual((await readPod('slow')).status?.phase, 'Running', 'slow is still in its sandbox step');
  await waitFor('slow Running in the end', async () => isRunningAndReady(await readPod('slow')));
});

test('a failing sandbox is retried with backoff and reported as FailedCreatePodSandBox', async () => {
  runtime.sandboxFailures.set('flaky', 2);
  await createPod(podSpec('flaky'));
  await waitFor('flaky Running after retries', async () => isRunningAndReady(await readPod('flaky')));
  const syncs = runtime.callsFor('flaky', 'executePodActions');
  assert.ok(syncs.length >= 3);
  assert.ok(syncs[1].atMs - syncs[0].atMs >= 150, 'the retry waited for its backoff');
  const events = await waitFor('the FailedCreatePodSandBox event', async () => {
    const list = await kube.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=flaky' });
    const e = list.items.find((x) => x.reason === 'FailedCreatePodSandBox');
    return e && list.items;
  });
  const failed = events.find((e) => e.reason === 'FailedCreatePodSandBox')!;
  assert.equal(failed.type, 'Warning');
  assert.equal(failed.source?.component, 'kubelet');
  assert.equal(failed.source?.host, nodeName);
  assert.ok((failed.count ?? 0) >= 1);
});

test('healthz and the node API answer', async () => {
  const healthz = await fetch(`http://127.0.0.1:${agent.healthzPort}/healthz`);
  assert.equal(healthz.status, 200);
  assert.equal(await healthz.text(), 'ok');
  const dispatcher = new Agent({ connect: { ca: agent.servingCertificate.certPem, cert: nodeApiClient.certPem, key: nodeApiClient.keyPem } });
  const pods = await (await fetchWith(`https://127.0.0.1:${agent.port}/pods`, { dispatcher })).json() as { kind: string; items: V1Pod[] };
  await dispatcher.close();
  assert.equal(pods.kind, 'PodList');
  assert.ok(pods.items.some((p) => p.metadata?.name === 'quick'));
});

test('a runtime that goes down makes the node NotReady, and Ready again when it is back', async () => {
  const readyCondition = async () => (await kube.readNode({ name: nodeName })).status?.conditions?.find((c) => c.type === 'Ready');
  runtime.healthy = false;
  try {
    const notReady = await waitFor('Ready=False', async () => {
      const c = await readyCondition();
      return c?.status === 'False' && c;
    });
    assert.equal(notReady.reason, 'KubeletNotReady');
    assert.match(notReady.message!, /container runtime is down/);
  } finally {
    runtime.healthy = true;
  }
  await waitFor('Ready=True again', async () => (await readyCondition())?.status === 'True');
});
