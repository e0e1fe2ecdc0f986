// Logs a person can follow, in-process: the agent over the simulated runtime's CRI gRPC, at debug
// (--v 4), with the agent's own logger options (the pod scope mixin) writing to memory. Every CRI
// call made for a pod carries its pod and uid; the pod's lifecycle states come one line each, in
// order, from the watch event to Running and out again; the relist's CRI calls stay out of debug.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createCertificateAuthority } from '../../src/tls/certificates.ts';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import { defaultConfig } from '../../src/agent/config/agent-config.ts';
import { loggerOptions } from '../../src/agent/logger.ts';
import { simAgentConfig } from '../helpers/sim-agent-config.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import { pollFor } from '../../src/world/wait.ts';

const silent = pino({ level: 'silent' });
const nodeName = 'logs-node';
let dir: string;
let apiServer: RunningApiServer;
let sim: SimRuntime;
let agent: RunningAgent | undefined;
let kube: CoreV1Api;
const lines: Array<Record<string, unknown>> = [];

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> =>
  pollFor(async () => (await probe()) || undefined, { what, timeoutMs, intervalMs: 50 });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-logs-'));
  apiServer = await startApiServer({ port: 0, logger: silent, binder: false });
  sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  const kubeConfig = apiServer.kubeConfig();
  kube = kubeConfig.makeApiClient(CoreV1Api);
  const clientCa = await createCertificateAuthority('logs-client-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  const logger = pino(loggerOptions('debug'), { write: (s: string) => void lines.push(JSON.parse(s)) });
  const config = simAgentConfig(dir, nodeName, sim.endpoint, { authorization: { ...defaultConfig.authorization, mode: 'AlwaysAllow' } });
  agent = await startAgent(config, { logger, kubeConfig });
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

const podSpec = (name: string): V1Pod => ({
  metadata: { name, namespace: 'default' },
  spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }, { name: 'side', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
});

test('one pod from the watch event to Running and back: CRI calls carry its pod and uid, its lifecycle comes in order', async () => {
  const created = await kube.createNamespacedPod({ namespace: 'default', body: podSpec('followed') });
  const uid = created.metadata!.uid!;
  await waitFor('followed Running', async () => {
    const p = await kube.readNamespacedPod({ namespace: 'default', name: 'followed' });
    return p.status?.phase === 'Running' && p;
  });
  // Once the PLEG has seen it running, a second or so of a Running pod: relists every 200 ms,
  // none of them at debug.
  await waitFor('the PLEG line of the pod running', async () => lines.some((l) => l.component === 'pleg' && l.uid === uid
    && l.sandbox === 'ready' && /app=running/.test(String(l.containers)) && /side=running/.test(String(l.containers))), 5000);
  const quietFrom = lines.length;
  await new Promise((r) => setTimeout(r, 1200));
  // Nor the runtime's health and version checks (Status, Version); nothing at debug for a quiet node.
  const quiet = lines.slice(quietFrom).filter((l) => l.level === 20 && l.component === 'cri-client' && l.pod === undefined);
  assert.deepEqual(quiet, [], 'the relist and the health checks log their CRI calls at trace, not debug');
  assert.ok(!lines.slice(quietFrom).some((l) => typeof l.msg === 'string' && l.msg.startsWith('PLEG: pod')), 'a relist that finds nothing new logs nothing');

  await kube.deleteNamespacedPod({ namespace: 'default', name: 'followed' });
  await waitFor('followed gone', async () => {
    try {
      await kube.readNamespacedPod({ namespace: 'default', name: 'followed' });
      return false;
    } catch (err) {
      return (err as { code?: number }).code === 404;
    }
  });
  await waitFor('the pod cleaned up', async () => lines.some((l) => l.uid === uid && l.state === 'cleanedUp'));

  const cri = lines.filter((l) => l.component === 'cri-client' && l.msg === 'CRI call');
  const forPod = (method: string) => cri.filter((l) => l.method === method && l.uid === uid);
  for (const method of ['RunPodSandbox', 'CreateContainer', 'StartContainer', 'StopContainer', 'StopPodSandbox', 'RemovePodSandbox']) {
    const calls = forPod(method);
    assert.ok(calls.length > 0, `a ${method} line for the pod: ${JSON.stringify(cri.filter((l) => l.method === method))}`);
    for (const l of calls) {
      assert.equal(l.pod, 'default/followed');
      assert.equal(typeof l.ms, 'number');
      assert.equal(l.level, 20);
    }
  }
  // Every sandbox and container call was made for some pod, and says which.
  for (const l of cri.filter((l) => ['RunPodSandbox', 'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'StopPodSandbox', 'RemovePodSandbox'].includes(l.method as string))) {
    assert.ok(l.pod && l.uid, `a pod on ${JSON.stringify(l)}`);
  }

  const lifecycle = lines.filter((l) => l.uid === uid && l.lifecycle !== undefined);
  assert.deepEqual(lifecycle.map((l) => l.lifecycle), ['Admitted', 'SandboxReady', 'ContainersStarting', 'Running', 'Terminating', 'Terminated']);
  assert.deepEqual(lifecycle.map((l) => l.msg), ['pod Admitted', 'pod SandboxReady', 'pod ContainersStarting', 'pod Running', 'pod Terminating', 'pod Terminated']);
  for (const l of lifecycle) assert.equal(l.pod, 'default/followed');
  // The PLEG's lines for the pod: it appeared, changed, disappeared; never a line for nothing.
  const plegOf = () => lines.filter((l) => l.component === 'pleg' && l.uid === uid).map((l) => l.change);
  await waitFor('the PLEG line of the pod gone', async () => plegOf().includes('disappeared'), 5000);
  assert.equal(plegOf()[0], 'appeared');
  assert.ok(plegOf().length <= 6, JSON.stringify(plegOf()));
});
