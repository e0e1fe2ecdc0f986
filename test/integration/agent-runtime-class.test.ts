// A pod whose RuntimeClass is gone by the time the agent sets it up. The API server refuses a
// pod naming a class that does not exist (RuntimeClass admission), so the agent meets an unknown
// class only when the class is deleted after the pod was admitted: here the pod is bound to the
// node before its agent runs, and the class deleted before the agent starts. The agent never
// calls RunPodSandbox, reports the cause in a FailedCreatePodSandBox event, and the pod shows as
// the kubelet shows it: Pending, its container waiting in ContainerCreating, no sandbox.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, NodeV1Api, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createCertificateAuthority } from '../../src/tls/certificates.ts';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import { defaultConfig } from '../../src/agent/config/agent-config.ts';
import { simAgentConfig } from '../helpers/sim-agent-config.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import { pollFor } from '../../src/world/wait.ts';

const silent = pino({ level: 'silent' });
const nodeName = 'rc-node';
let dir: string;
let apiServer: RunningApiServer;
let sim: SimRuntime;
let agent: RunningAgent | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-rc-'));
  apiServer = await startApiServer({ port: 0, logger: silent, binder: false, defaultFieldValidation: 'Strict' });
  sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  const clientCa = await createCertificateAuthority('rc-client-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
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

test('a RuntimeClass deleted after its pod was admitted: no sandbox, a FailedCreatePodSandBox event, the pod Pending in ContainerCreating', async () => {
  const kubeConfig = apiServer.kubeConfig();
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const nodeV1 = kubeConfig.makeApiClient(NodeV1Api);

  await nodeV1.createRuntimeClass({ body: { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'vanishing' }, handler: 'runc-alt' } });
  const pod: V1Pod = {
    metadata: { name: 'no-class', namespace: 'default' },
    spec: { nodeName, runtimeClassName: 'vanishing', terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
  };
  const created = await core.createNamespacedPod({ namespace: 'default', body: pod });
  await nodeV1.deleteRuntimeClass({ name: 'vanishing' });

  const config = simAgentConfig(dir, nodeName, sim.endpoint, {
    podManifestPath: join(dir, 'manifests'),
    authorization: { ...defaultConfig.authorization, mode: 'AlwaysAllow' },
  });
  mkdirSync(config.podManifestPath!, { recursive: true });
  agent = await startAgent(config, { logger: silent, kubeConfig });

  const event = await pollFor(async () => {
    const { items } = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=no-class' });
    return items.find((e) => e.reason === 'FailedCreatePodSandBox') ?? undefined;
  }, { what: 'a FailedCreatePodSandBox event for no-class', timeoutMs: 15_000, intervalMs: 50 });
  assert.equal(event.type, 'Warning');
  assert.equal(event.message, 'Failed to create pod sandbox: runtimeclass.node.k8s.io "vanishing" not found');

  const reported = await pollFor(async () => {
    const p = await core.readNamespacedPod({ namespace: 'default', name: 'no-class' });
    return p.status?.containerStatuses?.[0]?.state?.waiting ? p : undefined;
  }, { what: 'a container status for no-class', timeoutMs: 15_000, intervalMs: 50 });
  assert.equal(reported.status?.phase, 'Pending');
  assert.equal(reported.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'ContainerCreating');
  assert.equal(reported.status?.containerStatuses?.[0]?.containerID, undefined);
  assert.equal(sim.faults.callCount('RunPodSandbox'), 0, 'RunPodSandbox was never called');
  const sandboxes = (await agent.runtime.relist()).filter((p) => p.uid === created.metadata!.uid).flatMap((p) => p.sandboxes);
  assert.deepEqual(sandboxes, []);
});
