// The wire audit: the in-process agent on the simulated runtime talks to the dev control plane
// through a recording proxy while it lives a representative life (registration, status updates,
// lease creation and renewals, pods running, failing and deleted, events and their repeats, a
// static pod's mirror pod, projected service-account tokens, TokenReview and SubjectAccessReview
// for the node API), and every body it sent is then checked against the API's format rules
// (test/helpers/wire-rules.ts): the model of its kind with no unknown fields, Times in whole
// seconds, MicroTimes with six fraction digits, canonical quantities, accepted patch types.
// A real kube-apiserver refused a Lease once for a three-digit renewTime; this is what catches that.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CoordinationV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Agent, fetch as fetchWith } from 'undici';
import { createCertificateAuthority } from '../../src/tls/certificates.ts';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import { simAgentConfig } from '../helpers/sim-agent-config.ts';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.ts';
import { checkRequest, type WireVerdict } from '../helpers/wire-rules.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import { pollFor } from '../../src/world/wait.ts';

const silent = pino({ level: 'silent' });
const nodeName = 'audit-node';
const namespace = 'default';
let dir: string;
let apiServer: RunningApiServer;
let sim: SimRuntime;
let proxy: RecordingProxy;
let agent: RunningAgent | undefined;
let kube: CoreV1Api;

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> =>
  pollFor(async () => (await probe()) || undefined, { what, timeoutMs, intervalMs: 50 });
const readPod = (name: string) => kube.readNamespacedPod({ namespace, name });
const gone = async (name: string) => {
  try {
    await readPod(name);
    return false;
  } catch (err) {
    return (err as { code?: number }).code === 404;
  }
};
/** Calls like "PUT leases.coordination.k8s.io" the agent has made so far. */
const calls = () => proxy.requests.map((r) => checkRequest(r).call);
const sent = (call: string) => calls().filter((c) => c === call).length;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-wire-audit-'));
  apiServer = await startApiServer({ port: 0, logger: silent, binder: false, defaultFieldValidation: 'Strict' });
  sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  kube = apiServer.kubeConfig().makeApiClient(CoreV1Api);
  // The agent runs as the node (system:node:<name>), as a kubelet does, through the proxy.
  const nodeKubeConfig = new KubeConfig();
  nodeKubeConfig.loadFromString(await apiServer.nodeKubeconfig(nodeName));
  proxy = await startRecordingProxy(nodeKubeConfig);
  const clientCa = await createCertificateAuthority('audit-client-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  // Webhook authentication and authorization (the defaults) send TokenReviews and SubjectAccessReviews.
  const config = simAgentConfig(dir, nodeName, sim.endpoint, { podManifestPath: join(dir, 'manifests') });
  // A status report every second even when nothing changed, so heartbeats are audited too.
  config.intervals = { ...config.intervals, nodeStatusReportMs: 1000 };
  mkdirSync(config.podManifestPath!, { recursive: true });
  agent = await startAgent(config, { logger: silent, kubeConfig: proxy.kubeConfig() });
});

after(async () => {
  try {
    await agent?.stop();
    await agent?.removeAllPods();
  } finally {
    await sim?.stop();
    await proxy?.stop();
    await apiServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the agent lives a representative life', async () => {
  // Registration, status, and a Lease renewed again and again.
  await waitFor('a Ready node', async () => {
    const n = await kube.readNode({ name: nodeName });
    return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && n;
  });
  const leases = apiServer.kubeConfig().makeApiClient(CoordinationV1Api);
  await waitFor('the lease renewed twice', async () => sent('PUT leases.coordination.k8s.io') >= 2 && leases.readNamespacedLease({ namespace: 'kube-node-lease', name: nodeName }));

  // A pod that runs but never gets ready (a readiness probe that fails every second: Unhealthy
  // events, then their repeats as patches), and one whose only container fails.
  const pod = (name: string, spec: Partial<V1Pod['spec']>): V1Pod => ({
    metadata: { name, namespace },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }], ...spec },
  });
  await kube.createNamespacedPod({ namespace, body: pod('web', {
    containers: [{
      name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'],
      readinessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 },
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
    }],
  }) });
  await kube.createNamespacedPod({ namespace, body: pod('fails', {
    restartPolicy: 'Never',
    containers: [{ name: 'app', image: 'busybox:1.36', command: ['sh', '-c', 'exit 1'] }],
  }) });
  await waitFor('web Running', async () => (await readPod('web')).status?.phase === 'Running');
  await waitFor('fails Failed', async () => (await readPod('fails')).status?.phase === 'Failed');
  await waitFor('a repeated event patched', async () => sent('PATCH events') >= 1);

  // A static pod: its mirror pod is created, and deleted with the manifest.
  const manifest = join(dir, 'manifests', 'static.yaml');
  writeFileSync(manifest, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: static\nspec:\n  containers:\n  - name: app\n    image: busybox:1.36\n    command: [sleep, "3600"]\n');
  await waitFor('the mirror pod Running', async () => (await readPod(`static-${nodeName}`)).status?.phase === 'Running');
  unlinkSync(manifest);
  await waitFor('the mirror pod gone', () => gone(`static-${nodeName}`));

  // A bearer token at the node API: the agent asks the API server who it is and what it may do.
  const token = (await kube.createNamespacedServiceAccountToken({ namespace, name: 'default', body: { spec: { audiences: [], expirationSeconds: 600 } } })).status!.token;
  const dispatcher = new Agent({ connect: { ca: agent!.servingCertificate.certPem } });
  const answer = await fetchWith(`https://127.0.0.1:${agent!.port}/pods`, { dispatcher, headers: { Authorization: `Bearer ${token}` } });
  assert.equal(answer.status, 403, 'the default service account may not read the node API');
  await answer.body?.cancel();
  await dispatcher.close();

  // Deleted pods: the agent stops them and removes them from the API.
  await kube.deleteNamespacedPod({ namespace, name: 'web' });
  await kube.deleteNamespacedPod({ namespace, name: 'fails' });
  await waitFor('web gone', () => gone('web'));
  await waitFor('fails gone', () => gone('fails'));
  await agent!.stop();
  agent = undefined;
});

test('every body the agent sent keeps the API\'s format rules', (t) => {
  const writes = proxy.requests.filter((r) => r.method !== 'GET');
  const verdicts: Array<WireVerdict & { status?: number }> = writes.map((r) => ({ ...checkRequest(r), status: r.status }));
  const counts = new Map<string, number>();
  for (const v of verdicts) {
    const key = `${v.call}${v.kind ? ` (${v.kind})` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const kinds = new Set(verdicts.flatMap((v) => (v.kind ? [v.kind] : [])));
  t.diagnostic(`wire audit: ${proxy.requests.length} requests, ${writes.length} with bodies checked, ${kinds.size} kinds`);
  for (const [call, n] of [...counts].sort()) t.diagnostic(`${String(n).padStart(4)}  ${call}`);

  // What a representative life must have sent, or the audit proves little.
  for (const call of ['POST nodes', 'PATCH nodes/status', 'POST leases.coordination.k8s.io', 'PUT leases.coordination.k8s.io',
    'PATCH pods/status', 'POST pods', 'DELETE pods', 'POST events', 'PATCH events', 'POST serviceaccounts/token',
    'POST tokenreviews.authentication.k8s.io', 'POST subjectaccessreviews.authorization.k8s.io']) {
    assert.ok(verdicts.some((v) => v.call === call), `the agent never sent ${call}; it sent: ${[...counts.keys()].join(', ')}`);
  }

  const bad = verdicts.filter((v) => v.problems.length);
  const report = bad.map((v) => {
    const r = writes[verdicts.indexOf(v)]!;
    return `${v.call} ${r.path} [${r.contentType}]\n${v.problems.map((p) => `    ${p.rule} ${p.field}: ${p.message}`).join('\n')}\n    body: ${r.body.toString('utf8').slice(0, 600)}`;
  });
  assert.equal(bad.length, 0, `${bad.length} of ${verdicts.length} bodies break the API's rules:\n${[...new Set(report)].join('\n')}`);

  // And none was refused for its form (404 and 409 are races a kubelet meets and retries).
  const refused = verdicts.filter((v) => v.status !== undefined && [400, 415, 422].includes(v.status));
  assert.deepEqual(refused.map((v) => `${v.call} ${v.status}`), []);
});
