// A pod's journey as spans, end to end: dev API server + simulated runtime over CRI gRPC + the
// agent with its timeline buffer and an OTLP/gRPC collector (test/helpers/otlp-collector.ts).
// The pod's span tree (watch → admission → sync → RunPodSandbox → PullImage → CreateContainer
// → StartContainer → status patch, parents holding their children's time), the error span of an
// injected RunPodSandbox failure, the spans the collector receives, the traceparent the runtime
// received with each CRI call, a postStart hook and probe runs, and the kill and removal.
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
import { simAgentConfig } from '../helpers/sim-agent-config.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import { pollFor } from '../../src/world/wait.ts';
import type { PodTimeline, TimelineSpan } from '../../src/trace/pod-timeline.ts';
import { startOtlpCollector, type OtlpCollector } from '../helpers/otlp-collector.ts';

// The batch processor sends every 200 ms instead of 5 s, so the collector test is quick.
process.env.OTEL_BSP_SCHEDULE_DELAY = '200';

const silent = pino({ level: 'silent' });
const nodeName = 'trace-node';
let dir: string;
let apiServer: RunningApiServer;
let sim: SimRuntime;
let agent: RunningAgent | undefined;
let kube: CoreV1Api;
let collector: OtlpCollector;

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> =>
  pollFor(async () => (await probe()) || undefined, { what, timeoutMs, intervalMs: 50 });

const podSpec = (name: string): V1Pod => ({
  metadata: { name, namespace: 'default' },
  spec: {
    nodeName, terminationGracePeriodSeconds: 1,
    // An image the runtime does not hold yet: the sync pulls it.
    containers: [{ name: 'app', image: `example.com/${name}:1.0`, command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
    volumes: [{ name: 'scratch', emptyDir: {} }],
  },
});

const timelineOf = (name: string) => agent!.timelines!.timelineOf('default', name);
const first = (tl: PodTimeline, name: string) => tl.spans.find((s) => s.name === name);
/** The timeline once the pod's Running status was patched. */
const runningTimeline = (name: string) => waitFor(`${name}'s timeline up to its Running status patch`, () => {
  const tl = timelineOf(name);
  return tl && tl.spans.some((s) => s.name === 'status.patch' && s.attributes['k8s.pod.phase'] === 'Running' && !s.open) && tl;
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-trace-'));
  apiServer = await startApiServer({ port: 0, logger: silent, binder: false });
  sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: [] });
  collector = await startOtlpCollector();
  const kubeConfig = apiServer.kubeConfig();
  kube = kubeConfig.makeApiClient(CoreV1Api);
  const clientCa = await createCertificateAuthority('trace-client-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  const config = simAgentConfig(dir, nodeName, sim.endpoint, {
    authorization: { ...defaultConfig.authorization, mode: 'AlwaysAllow' },
    tracing: { endpoint: collector.endpoint, samplingRatePerMillion: 1_000_000 },
    podTimelines: true,
  });
  agent = await startAgent(config, { logger: silent, kubeConfig });
});

after(async () => {
  try {
    await agent?.stop();
    await agent?.removeAllPods();
  } finally {
    await sim?.stop();
    await collector?.stop();
    await apiServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pod\'s timeline: each step in order, children inside their parents, each with its facts', async () => {
  await kube.createNamespacedPod({ namespace: 'default', body: podSpec('traced') });
  const tl = await runningTimeline('traced');
  const pod = await kube.readNamespacedPod({ namespace: 'default', name: 'traced' });
  assert.deepEqual(tl.pod, { namespace: 'default', name: 'traced', uid: pod.metadata!.uid! });
  assert.equal(tl.node, nodeName);

  const steps = ['pod.watch', 'pod.admission', 'pod.sync', 'volumes.setup', 'RunPodSandbox', 'PullImage', 'CreateContainer', 'StartContainer', 'status.patch'];
  const found = steps.map((name) => first(tl, name));
  found.forEach((s, i) => assert.ok(s, `a ${steps[i]} span in ${tl.spans.map((x) => x.name).join(', ')}`));
  const starts = found.map((s) => s!.startMs);
  assert.deepEqual([...starts].sort((a, b) => a - b), starts, `in order: ${steps.join(' → ')}`);

  const [watch, admission, sync, volumes, sandbox, pull, create, start, patch] = found as TimelineSpan[];
  assert.equal(watch!.attributes['k8s.watch.event'], 'ADDED');
  assert.equal(admission!.attributes['admission.verdict'], 'admitted');
  // Roots: the watch event, the admission, the sync, the patch; each names the pod.
  for (const root of [watch!, admission!, sync!, patch!]) {
    assert.equal(root.parentSpanId, undefined, `${root.name} is a root`);
    assert.equal(root.attributes['k8s.pod.uid'], pod.metadata!.uid);
    assert.equal(root.attributes['k8s.pod.name'], 'traced');
    assert.equal(root.attributes['k8s.namespace.name'], 'default');
  }
  assert.match(String(sync!.attributes.reason), /\S/, 'the sync names what computePodActions decided');
  assert.match(String(sync!.attributes.actions), /createSandbox.*startContainer/);
  for (const child of [volumes!, sandbox!, pull!, create!, start!]) {
    assert.equal(child.parentSpanId, sync!.spanId, `${child.name} is a child of the sync`);
    assert.equal(child.traceId, sync!.traceId);
  }
  // Every span ended, took time, and lies within its parent.
  const byId = new Map(tl.spans.map((s) => [s.spanId, s]));
  for (const s of tl.spans) {
    assert.equal(s.open, undefined, `${s.name} ended`);
    assert.ok(s.durationMs > 0, `${s.name} took ${s.durationMs} ms`);
    const parent = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    if (parent) {
      assert.ok(s.startMs >= parent.startMs && s.startMs + s.durationMs <= parent.startMs + parent.durationMs + 0.01, `${s.name} within ${parent.name}`);
    }
    assert.equal(s.status, 'ok', `${s.name}: ${s.message ?? ''}`);
  }
  assert.match(String(sandbox!.attributes['k8s.sandbox.id']), /\S/);
  assert.match(String(sandbox!.attributes['k8s.pod.ip']), /^\d+\.\d+\.\d+\.\d+/);
  assert.equal(pull!.attributes['container.image.name'], 'example.com/traced:1.0');
  assert.match(String(pull!.attributes['container.image.id']), /\S/);
  assert.equal(create!.attributes['k8s.container.name'], 'app');
  assert.match(String(create!.attributes['container.id']), /\S/);
  assert.equal(start!.attributes['container.id'], create!.attributes['container.id']);
  assert.equal(pod.status!.containerStatuses![0]!.containerID!.endsWith(String(create!.attributes['container.id'])), true);
});

test('the runtime received the trace context: a traceparent of the sync\'s trace, naming the step\'s span', async () => {
  const tl = await runningTimeline('traced');
  const sync = first(tl, 'pod.sync')!;
  for (const rpc of ['RunPodSandbox', 'PullImage', 'CreateContainer', 'StartContainer'] as const) {
    const step = tl.spans.find((s) => s.name === rpc && s.traceId === sync.traceId)!;
    const received = sim.traceContext.traceparents(rpc).map((tp) => tp.split('-'));
    assert.ok(received.some(([version, traceId, spanId]) => version === '00' && traceId === sync.traceId && spanId === step.spanId),
      `${rpc} got a traceparent of trace ${sync.traceId} and span ${step.spanId}: ${JSON.stringify(received)}`);
  }
});

test('the OTLP collector receives the pod\'s spans with their attributes', async () => {
  const tl = await runningTimeline('traced');
  const sync = first(tl, 'pod.sync')!;
  const sandbox = first(tl, 'RunPodSandbox')!;
  const inTrace = await waitFor('the sync\'s trace at the collector', () => {
    const spans = collector.spans.filter((s) => s.traceId === sync.traceId);
    return ['pod.sync', 'RunPodSandbox', 'PullImage', 'CreateContainer', 'StartContainer'].every((n) => spans.some((s) => s.name === n)) && spans;
  }, 15_000);
  const root = inTrace.find((s) => s.name === 'pod.sync')!;
  assert.equal(root.spanId, sync.spanId);
  assert.equal(root.parentSpanId, '');
  assert.equal(root.attributes['k8s.pod.name'], 'traced');
  assert.equal(root.attributes['k8s.namespace.name'], 'default');
  assert.equal(root.attributes['k8s.pod.uid'], tl.pod.uid);
  assert.equal(root.resource['service.name'], 'mini-kubelet');
  assert.equal(root.resource['k8s.node.name'], nodeName);
  const exported = inTrace.find((s) => s.name === 'RunPodSandbox')!;
  assert.equal(exported.parentSpanId, sync.spanId);
  assert.equal(exported.attributes['k8s.sandbox.id'], sandbox.attributes['k8s.sandbox.id']);
  assert.ok(exported.endNs > exported.startNs);
  assert.ok(collector.spans.some((s) => s.name === 'status.patch' && s.attributes['k8s.pod.uid'] === tl.pod.uid));
});

test('a failed RunPodSandbox is an error span with the runtime\'s message; the retry then runs the pod', async () => {
  sim.faults.fail('RunPodSandbox', { message: 'injected: no sandbox for you' });
  await kube.createNamespacedPod({ namespace: 'default', body: podSpec('no-sandbox') });
  const failed = await waitFor('a failed RunPodSandbox span', () => {
    const tl = timelineOf('no-sandbox');
    return tl?.spans.find((s) => s.name === 'RunPodSandbox' && s.status === 'error');
  });
  assert.match(failed.message ?? '', /injected: no sandbox for you/);
  const tl = timelineOf('no-sandbox')!;
  const sync = tl.spans.find((s) => s.spanId === failed.parentSpanId)!;
  assert.equal(sync.name, 'pod.sync');
  assert.equal(sync.status, 'error');
  assert.match(sync.message ?? '', /CreatePodSandboxError/);
  // Nothing was created in that sync.
  assert.ok(!tl.spans.some((s) => s.traceId === sync.traceId && s.name === 'CreateContainer'));
  const after = await runningTimeline('no-sandbox');
  assert.ok(after.spans.some((s) => s.name === 'RunPodSandbox' && s.status === 'ok'), 'the retry made the sandbox');
});

test('a postStart hook is a step of the sync; each probe run is a root span with its verdict', async () => {
  const body = podSpec('probed');
  body.spec!.containers[0]!.lifecycle = { postStart: { exec: { command: ['sh', '-c', 'true'] } } };
  body.spec!.containers[0]!.readinessProbe = { exec: { command: ['sh', '-c', 'exit 1'] }, periodSeconds: 1, failureThreshold: 1 };
  await kube.createNamespacedPod({ namespace: 'default', body });
  const tl = await waitFor('a postStart span and a failed readiness probe', () => {
    const t = timelineOf('probed');
    return t && t.spans.some((s) => s.name === 'postStart' && !s.open) && t.spans.some((s) => s.name === 'probe.readiness' && !s.open) && t;
  });
  const hook = first(tl, 'postStart')!;
  const start = first(tl, 'StartContainer')!;
  assert.equal(hook.parentSpanId, start.parentSpanId, 'postStart is a step of the sync that started the container');
  assert.ok(hook.startMs >= start.startMs + start.durationMs, 'after StartContainer');
  assert.equal(hook.attributes['hook.handler'], 'exec');
  assert.equal(hook.status, 'ok');
  const probe = tl.spans.find((s) => s.name === 'probe.readiness' && !s.open)!;
  assert.equal(probe.parentSpanId, undefined);
  assert.equal(probe.attributes['k8s.container.name'], 'app');
  assert.equal(probe.attributes['container.id'], start.attributes['container.id']);
  assert.equal(probe.attributes['probe.result'], 'failure');
  assert.equal(probe.status, 'error');
  await kube.deleteNamespacedPod({ namespace: 'default', name: 'probed', body: { gracePeriodSeconds: 0 } });
});

test('deleting the pod: the kill and removal are spans too (StopContainer, StopPodSandbox, RemovePodSandbox)', async () => {
  await kube.deleteNamespacedPod({ namespace: 'default', name: 'traced' });
  const tl = await waitFor('the removal spans', () => {
    const t = timelineOf('traced');
    return t && ['StopContainer', 'StopPodSandbox', 'RemovePodSandbox'].every((n) => t.spans.some((s) => s.name === n && !s.open)) && t;
  });
  const terminate = tl.spans.find((s) => s.name === 'pod.terminate')!;
  assert.ok(terminate, 'a pod.terminate root');
  const stop = tl.spans.find((s) => s.name === 'StopContainer')!;
  assert.equal(stop.traceId, terminate.traceId);
  assert.ok(tl.spans.some((s) => s.name === 'pod.watch' && s.attributes['k8s.watch.event'] === 'MODIFIED'));
});
