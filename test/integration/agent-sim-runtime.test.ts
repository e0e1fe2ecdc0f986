// The whole agent over real CRI gRPC: dev API server + simulated runtime + GenericRuntime
// manager, in-process. Pods go from the API to Running and back; faults in RunPodSandbox are
// retried and reported; a slow sandbox does not block other pods; a restarted agent adopts
// its pods and removes the ones deleted while it was down; Services become the containers'
// service variables.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Agent, fetch as fetchWith } from 'undici';
import { createCertificateAuthority, type CertificateAndKey } from '../../src/tls/certificates.ts';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import { defaultConfig, type AgentConfig } from '../../src/agent/config/agent-config.ts';
import { simAgentConfig } from '../helpers/sim-agent-config.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import { pollFor } from '../../src/world/wait.ts';

const silent = pino({ level: 'silent' });
const nodeName = 'sim-node';
let dir: string;
let apiServer: RunningApiServer;
let sim: SimRuntime;
let agent: RunningAgent | undefined;
let kube: CoreV1Api;
let kubeConfig: KubeConfig;
let config: AgentConfig;
/** A client certificate of the agent's --client-ca-file, for the node API. */
let nodeApiClient: CertificateAndKey;

/** The value the probe yields once it yields one (errors count as not yet). */
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> =>
  pollFor(async () => (await probe()) || undefined, { what, timeoutMs, intervalMs: 50 });

const podSpec = (name: string): V1Pod => ({
  metadata: { name, namespace: 'default' },
  spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
});
const readPod = (name: string) => kube.readNamespacedPod({ namespace: 'default', name });
const createPod = (pod: V1Pod) => kube.createNamespacedPod({ namespace: 'default', body: pod });
const isRunningAndReady = (p: V1Pod) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const waitRunning = (name: string, timeoutMs?: number) => waitFor(`${name} Running and Ready`, async () => {
  const p = await readPod(name);
  return isRunningAndReady(p) && p;
}, timeoutMs);
const gone = async (name: string) => {
  try {
    await readPod(name);
    return false;
  } catch (err) {
    return (err as { code?: number }).code === 404;
  }
};
const sandboxesOf = async (podName: string) => (await agent!.runtime.relist()).filter((p) => p.name === podName).flatMap((p) => p.sandboxes);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-sim-'));
  // Strict: any field the agent writes that the API does not have fails these tests.
  apiServer = await startApiServer({ port: 0, logger: silent, binder: false, defaultFieldValidation: 'Strict' });
  sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  kubeConfig = apiServer.kubeConfig();
  kube = kubeConfig.makeApiClient(CoreV1Api);
  const clientCa = await createCertificateAuthority('sim-client-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  nodeApiClient = await clientCa.issue({ commonName: 'sim-admin', usages: ['clientAuth'] });
  config = simAgentConfig(dir, nodeName, sim.endpoint, {
    podManifestPath: join(dir, 'manifests'),
    authorization: { ...defaultConfig.authorization, mode: 'AlwaysAllow' },
  });
  mkdirSync(config.podManifestPath!, { recursive: true });
  agent = await startAgent(config, { logger: silent, kubeConfig });
});

after(async () => {
  try {
    // Stopped first, so nothing sets a pod up again; then pods and their volumes (tmpfs as root) go.
    await agent?.stop();
    await agent?.removeAllPods();
  } finally {
    await sim?.stop();
    await apiServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the node is Ready and names the simulated runtime', async () => {
  const node = await waitFor('a Ready node', async () => {
    const n = await kube.readNode({ name: nodeName });
    return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && n;
  });
  assert.match(node.status!.nodeInfo!.containerRuntimeVersion!, /^\S+:\/\/\S+$/);
});

test('a pod runs over CRI, serves its logs, and deletion leaves no sandbox', async () => {
  await createPod(podSpec('web'));
  const running = await waitRunning('web');
  assert.ok(running.status?.podIP, 'the pod has an IP');
  assert.match(running.status!.containerStatuses![0].containerID!, /^\S+:\/\/\S+$/);
  const dispatcher = new Agent({ connect: { ca: agent!.servingCertificate.certPem, cert: nodeApiClient.certPem, key: nodeApiClient.keyPem } });
  const logs = await fetchWith(`https://127.0.0.1:${agent!.port}/containerLogs/default/web/app`, { dispatcher });
  assert.equal(logs.status, 200);
  await dispatcher.close();

  await kube.deleteNamespacedPod({ namespace: 'default', name: 'web' });
  await waitFor('web gone from the API', () => gone('web'));
  assert.deepEqual(await sandboxesOf('web'), []);
});

test('a static pod runs with a mirror pod', async () => {
  writeFileSync(join(dir, 'manifests', 'static.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: static\nspec:\n  containers:\n  - name: app\n    image: busybox:1.36\n    command: [sleep, "3600"]\n');
  const mirror = await waitRunning(`static-${nodeName}`);
  assert.ok(mirror.metadata?.annotations?.['kubernetes.io/config.mirror']);
});

test('a slow RunPodSandbox for one pod does not hold up another', async () => {
  const before = sim.faults.callCount('RunPodSandbox');
  sim.faults.delay('RunPodSandbox', 4000);
  await createPod(podSpec('slow'));
  await waitFor('slow to call RunPodSandbox', async () => sim.faults.callCount('RunPodSandbox') > before);
  await createPod(podSpec('quick'));
  await waitRunning('quick', 3000);
  assert.notEqual((await readPod('slow')).status?.phase, 'Running');
  await waitRunning('slow');
});

test('a failing RunPodSandbox is retried with backoff and reported as FailedCreatePodSandBox', async () => {
  sim.faults.fail('RunPodSandbox', { times: 2, message: 'injected: no sandbox for you' });
  await createPod(podSpec('flaky'));
  const pending = await waitFor('flaky to report the failure', async () => {
    const p = await readPod('flaky');
    return p.status?.phase === 'Pending' && p.status.containerStatuses?.[0]?.state?.waiting && p;
  });
  assert.equal(pending.status?.phase, 'Pending');
  await waitRunning('flaky');
  const list = await kube.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=flaky' });
  const failed = list.items.find((e) => e.reason === 'FailedCreatePodSandBox');
  assert.ok(failed, `events: ${list.items.map((e) => e.reason).join(', ')}`);
  assert.equal(failed.type, 'Warning');
  assert.match(failed.message!, /injected: no sandbox for you/);
});

test('a restarted agent adopts running pods and removes pods deleted while it was down', async () => {
  await createPod(podSpec('keeper'));
  await createPod(podSpec('goner'));
  await waitRunning('keeper');
  await waitRunning('goner');
  const keeperSandboxes = await sandboxesOf('keeper');
  assert.equal(keeperSandboxes.length, 1);

  await agent!.stop();
  agent = undefined;
  // Deleted with grace 0 while no agent watches: nobody stops its containers.
  await kube.deleteNamespacedPod({ namespace: 'default', name: 'goner', gracePeriodSeconds: 0 });

  agent = await startAgent(config, { logger: silent, kubeConfig });
  await agent.ready;
  assert.deepEqual(await sandboxesOf('goner'), [], 'the orphan was removed');
  const keeper = await waitRunning('keeper');
  assert.deepEqual((await sandboxesOf('keeper')).map((s) => s.id), keeperSandboxes.map((s) => s.id), 'no second sandbox');
  assert.equal(keeper.status?.containerStatuses?.[0].restartCount, 0);
});

test('probes over CRI ExecSync: a failing liveness probe restarts the container, a failing readiness probe keeps it unready', async () => {
  const probe = (command: string[]) => ({ exec: { command }, periodSeconds: 1, failureThreshold: 1 });
  await createPod({
    metadata: { name: 'probed', namespace: 'default' },
    spec: {
      nodeName, terminationGracePeriodSeconds: 1,
      containers: [
        { name: 'dying', image: 'busybox:1.36', command: ['sleep', '3600'], livenessProbe: probe(['false']) },
        { name: 'unready', image: 'busybox:1.36', command: ['sleep', '3600'], readinessProbe: probe(['sh', '-c', 'exit 1']) },
        { name: 'fine', image: 'busybox:1.36', command: ['sleep', '3600'], readinessProbe: probe(['true']), livenessProbe: probe(['true']) },
      ],
    },
  });
  const status = (p: V1Pod, name: string) => p.status?.containerStatuses?.find((c) => c.name === name);
  const p = await waitFor('dying restarted, fine ready', async () => {
    const pod = await readPod('probed');
    return (status(pod, 'dying')?.restartCount ?? 0) >= 1 && status(pod, 'fine')?.ready && pod;
  });
  assert.equal(p.status?.phase, 'Running');
  assert.equal(status(p, 'unready')?.ready, false);
  assert.equal(status(p, 'unready')?.restartCount, 0, 'readiness never restarts');
  assert.equal(status(p, 'fine')?.restartCount, 0);
  assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.message, 'containers with unready status: [unready]');
  const events = await waitFor('the probe events', async () => {
    const { items } = await kube.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=probed' });
    const killing = items.find((e) => e.reason === 'Killing' && e.message === 'Container dying failed liveness probe, will be restarted');
    const unhealthy = items.filter((e) => e.reason === 'Unhealthy').map((e) => `${e.involvedObject.fieldPath} ${e.message}`);
    return killing && unhealthy.some((u) => u.startsWith('spec.containers{unready} Readiness probe failed')) && unhealthy;
  });
  assert.ok(events.some((u) => u.startsWith('spec.containers{dying} Liveness probe failed')));
  await kube.deleteNamespacedPod({ namespace: 'default', name: 'probed' });
  await waitFor('probed gone', () => gone('probed'));
});

test('service variables: a Service of the pod\'s namespace and the master service reach CreateContainer, expanded in env and args', async () => {
  // An explicit clusterIP: the dev API server may not allocate one.
  await kube.createNamespacedService({ namespace: 'default', body: {
    metadata: { name: 'foo-db' },
    spec: { clusterIP: '10.96.7.7', ports: [{ name: 'sql', port: 5432 }, { name: 'metrics', port: 9187, protocol: 'UDP' }] },
  } });
  await kube.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } } });
  // The master service: the control plane's own when it makes one, else made here as it would be.
  const master = await kube.readNamespacedService({ namespace: 'default', name: 'kubernetes' }).catch(() =>
    kube.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'kubernetes' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] } } })
      .catch(() => kube.readNamespacedService({ namespace: 'default', name: 'kubernetes' })));
  const masterIP = master.spec!.clusterIP!;
  const envPod = (name: string, enableServiceLinks?: boolean): V1Pod => ({
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName, terminationGracePeriodSeconds: 1, ...(enableServiceLinks === undefined ? {} : { enableServiceLinks }),
      containers: [{
        name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'], args: ['$(FOO_DB_SERVICE_HOST):$(FOO_DB_SERVICE_PORT_SQL)'],
        env: [{ name: 'DB_URL', value: 'postgres://$(FOO_DB_SERVICE_HOST):$(FOO_DB_SERVICE_PORT)' }, { name: 'FOO_DB_PORT', value: 'mine' }],
      }],
    },
  });
  /** The env (and args) the simulated runtime was given for the pod's container. */
  const createdWith = async (podName: string) => {
    await waitRunning(podName);
    const c = [...sim.state.containers.byId.values()].find((x) => x.config.labels?.['io.kubernetes.pod.name'] === podName);
    assert.ok(c, `a container of ${podName} in the runtime`);
    return { env: Object.fromEntries(c.config.envs.map((e) => [e.key, e.value])), args: c.config.args };
  };

  await createPod(envPod('svc-env'));
  const on = await createdWith('svc-env');
  assert.deepEqual(on.args, ['10.96.7.7:5432']);
  assert.equal(on.env.DB_URL, 'postgres://10.96.7.7:5432');
  assert.equal(on.env.FOO_DB_PORT, 'mine', 'the container\'s own env wins');
  for (const [k, v] of Object.entries({
    FOO_DB_SERVICE_HOST: '10.96.7.7', FOO_DB_SERVICE_PORT: '5432', FOO_DB_SERVICE_PORT_SQL: '5432', FOO_DB_SERVICE_PORT_METRICS: '9187',
    FOO_DB_PORT_5432_TCP: 'tcp://10.96.7.7:5432', FOO_DB_PORT_5432_TCP_PROTO: 'tcp', FOO_DB_PORT_5432_TCP_PORT: '5432', FOO_DB_PORT_5432_TCP_ADDR: '10.96.7.7',
    FOO_DB_PORT_9187_UDP: 'udp://10.96.7.7:9187', FOO_DB_PORT_9187_UDP_PROTO: 'udp',
  })) assert.equal(on.env[k], v, k);
  assert.ok(!Object.keys(on.env).some((k) => k.startsWith('HEADLESS_')), 'a headless service gives no variables');
  assert.equal(on.env.KUBERNETES_SERVICE_HOST, masterIP);

  await createPod(envPod('svc-env-off', false));
  const off = await createdWith('svc-env-off');
  assert.ok(!Object.keys(off.env).some((k) => k.startsWith('FOO_DB_SERVICE')), Object.keys(off.env).join(', '));
  assert.deepEqual(off.args, ['$(FOO_DB_SERVICE_HOST):$(FOO_DB_SERVICE_PORT_SQL)'], 'unknown references stay as written');
  assert.equal(off.env.KUBERNETES_SERVICE_HOST, masterIP, 'the master service is seen regardless');
  assert.equal(off.env[`KUBERNETES_PORT_${master.spec!.ports![0]!.port}_TCP_ADDR`], masterIP);
  for (const name of ['svc-env', 'svc-env-off']) await kube.deleteNamespacedPod({ namespace: 'default', name });
  await Promise.all(['svc-env', 'svc-env-off'].map((name) => waitFor(`${name} gone`, () => gone(name))));
});
