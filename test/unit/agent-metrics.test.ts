// The agent's metrics, where they are pure: the kubelet's names for CRI calls, what the PLEG
// counts as running, when a pod "starts", the pod worker's operation types, and what one
// agent's registry serves (names, types, labels, buckets), apart from every other agent's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register as globalRegistry } from 'prom-client';
import { pino } from 'pino';
import { lastValueFrom, take, toArray } from 'rxjs';
import { criOperationName } from '../../src/cri/operation-names.ts';
import { step, type ExecutorDeps } from '../../src/cri/runtime-manager/executor-deps.ts';
import type { PodRuntime, RuntimePodStatus } from '../../src/cri/runtime-manager/pod-runtime.ts';
import {
  createAgentMetrics, isPodStart, podWorkerOperation, runningCounts, RUNTIME_OPERATION_BUCKETS, type PodWorkerOperation,
} from '../../src/agent/metrics/agent-metrics.ts';
import { podLifecycleEvents } from '../../src/agent/pleg/pleg.ts';
import type { PodWorkerStep } from '../../src/agent/workers/next-pod-worker-step.ts';
import { parseExposition } from '../helpers/prometheus-text.ts';

test('CRI methods carry the kubelet instrumented runtime service names', () => {
  const cases: Array<[string, string]> = [
    ['Version', 'version'], ['Status', 'status'],
    ['RunPodSandbox', 'run_podsandbox'], ['StopPodSandbox', 'stop_podsandbox'], ['RemovePodSandbox', 'remove_podsandbox'],
    ['PodSandboxStatus', 'podsandbox_status'], ['ListPodSandbox', 'list_podsandbox'],
    ['CreateContainer', 'create_container'], ['StartContainer', 'start_container'], ['StopContainer', 'stop_container'],
    ['RemoveContainer', 'remove_container'], ['ListContainers', 'list_containers'], ['ContainerStatus', 'container_status'],
    ['UpdateContainerResources', 'update_container'], ['ExecSync', 'exec_sync'], ['Exec', 'exec'], ['Attach', 'attach'],
    ['PortForward', 'port_forward'],
    ['ListImages', 'list_images'], ['ImageStatus', 'image_status'], ['PullImage', 'pull_image'], ['RemoveImage', 'remove_image'],
    ['ImageFsInfo', 'image_fs_info'],
  ];
  for (const [method, name] of cases) assert.equal(criOperationName(method), name, method);
});

const pod = (uid: string, sandbox: 'ready' | 'notready' | undefined, states: RuntimePodStatus['containers'][number]['state'][]): RuntimePodStatus => ({
  uid, name: uid, namespace: 'default',
  sandboxes: sandbox ? [{ id: `sb-${uid}`, state: sandbox, attempt: 0, createdAtMs: 0, runtimeHandler: '', ips: [] }] : [],
  containers: states.map((state, i) => ({ id: `${uid}-${i}`, name: `c${i}`, sandboxId: `sb-${uid}`, attempt: 0, state, createdAtMs: 0, image: 'i', imageRef: 'i', specHash: 'h' })),
});

test('running pods are those with a ready sandbox; containers are counted by state, every state reported', () => {
  assert.deepEqual(runningCounts([]), { pods: 0, containers: { created: 0, running: 0, exited: 0, unknown: 0 } });
  assert.deepEqual(runningCounts([
    pod('a', 'ready', ['running', 'running', 'exited']),
    pod('b', 'notready', ['exited']),
    pod('c', undefined, ['created', 'unknown']),
  ]), { pods: 1, containers: { created: 1, running: 2, exited: 2, unknown: 1 } });
});

test('a pod starts when its phase first goes to Running from Pending or from no status', () => {
  assert.equal(isPodStart('Pending', 'Running'), true);
  assert.equal(isPodStart(undefined, 'Running'), true);
  assert.equal(isPodStart('Running', 'Running'), false, 'already running (an adopted pod)');
  assert.equal(isPodStart('Pending', 'Pending'), false);
  assert.equal(isPodStart('Pending', 'Succeeded'), false);
  assert.equal(isPodStart('Failed', 'Running'), false);
});

test('pod worker operation types: create on admission, kill on any stop, update after a change, else sync', () => {
  const fold = (kinds: PodWorkerStep['kind'][], updated = false) =>
    kinds.reduce<PodWorkerOperation | undefined>((op, kind) => podWorkerOperation(op, kind, updated), undefined);
  assert.equal(fold(['admit', 'sync']), 'create');
  assert.equal(fold(['admit', 'sync', 'stopFinished']), 'create', 'first sight wins');
  assert.equal(fold(['admit', 'idle']), 'create', 'a rejection is the create too');
  assert.equal(fold(['sync']), 'sync');
  assert.equal(fold(['sync'], true), 'update');
  assert.equal(fold(['sync', 'stopFinished']), 'kill');
  assert.equal(fold(['terminate'], true), 'kill');
  assert.equal(fold(['cleanUp']), 'kill');
  assert.equal(fold(['failDeadline', 'stopFinished']), 'kill');
  assert.equal(fold(['idle']), undefined, 'nothing done, nothing observed');
});

test("one agent's registry: the kubelet's names, types, labels and buckets, apart from every other agent's", async () => {
  const m = createAgentMetrics('node-a');
  const other = createAgentMetrics('node-b');
  const run = m.operation('run_podsandbox');
  run(0.004, false);
  run(0.02, true);
  m.operation('exec_sync')(0.1, false);
  m.podStarting();
  m.podStarting();
  m.podStartFailed();
  m.containerStarting('container');
  m.containerStarting('init_container');
  m.containerStartFailed('container', 'ErrImagePull');
  m.stepDone('sandbox', 0.3);
  m.stepDone('preStop', 1.5);
  m.relisted(0.002, undefined, [pod('a', 'ready', ['running'])]);
  m.relisted(0.003, 1.0, [pod('a', 'ready', ['running']), pod('b', 'ready', ['created'])]);
  m.workerDone('create', 0.5);
  m.workerDone('sync', 0.01);
  m.podStarted(2.5);

  const { contentType, body } = await m.render();
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  const e = parseExposition(body);
  const expectedTypes: Record<string, string> = {
    kubelet_node_name: 'gauge', kubelet_running_pods: 'gauge', kubelet_running_containers: 'gauge',
    kubelet_started_pods_total: 'counter', kubelet_started_pods_errors_total: 'counter',
    kubelet_started_containers_total: 'counter', kubelet_started_containers_errors_total: 'counter',
    kubelet_pod_start_duration_seconds: 'histogram', kubelet_pod_worker_duration_seconds: 'histogram',
    kubelet_runtime_operations_total: 'counter', kubelet_runtime_operations_duration_seconds: 'histogram',
    kubelet_runtime_operations_errors_total: 'counter',
    kubelet_pleg_relist_duration_seconds: 'histogram', kubelet_pleg_relist_interval_seconds: 'histogram',
    mini_kubelet_sync_step_duration_seconds: 'histogram',
  };
  for (const [name, type] of Object.entries(expectedTypes)) assert.equal(e.types.get(name), type, name);

  assert.equal(e.value('kubelet_node_name', { node: 'node-a' }), 1);
  assert.equal(e.value('kubelet_running_pods'), 2);
  assert.equal(e.value('kubelet_running_containers', { container_state: 'running' }), 1);
  assert.equal(e.value('kubelet_running_containers', { container_state: 'created' }), 1);
  assert.equal(e.value('kubelet_running_containers', { container_state: 'exited' }), 0);
  assert.equal(e.value('kubelet_started_pods_total'), 2);
  assert.equal(e.value('kubelet_started_pods_errors_total'), 1);
  assert.equal(e.value('kubelet_started_containers_total', { container_type: 'container' }), 1);
  assert.equal(e.value('kubelet_started_containers_total', { container_type: 'init_container' }), 1);
  assert.equal(e.value('kubelet_started_containers_errors_total', { container_type: 'container', code: 'ErrImagePull' }), 1);
  assert.equal(e.value('kubelet_runtime_operations_total', { operation_type: 'run_podsandbox' }), 2);
  assert.equal(e.value('kubelet_runtime_operations_errors_total', { operation_type: 'run_podsandbox' }), 1);
  assert.equal(e.value('kubelet_runtime_operations_errors_total', { operation_type: 'exec_sync' }), undefined, 'no error series before an error');
  assert.equal(e.value('kubelet_runtime_operations_duration_seconds_count', { operation_type: 'exec_sync' }), 1);
  assert.equal(e.value('kubelet_runtime_operations_duration_seconds_bucket', { operation_type: 'run_podsandbox', le: '0.005' }), 1);
  assert.equal(e.value('kubelet_runtime_operations_duration_seconds_bucket', { operation_type: 'run_podsandbox', le: '+Inf' }), 2);
  const les = e.samples.filter((s) => s.name === 'kubelet_runtime_operations_duration_seconds_bucket' && s.labels.operation_type === 'exec_sync').map((s) => s.labels.le);
  assert.equal(les.length, RUNTIME_OPERATION_BUCKETS.length + 1, 'ExponentialBuckets(.005, 2.5, 14) and +Inf');
  assert.equal(e.value('kubelet_pleg_relist_duration_seconds_count'), 2);
  assert.equal(e.value('kubelet_pleg_relist_interval_seconds_count'), 1, 'no interval before the second relist');
  assert.equal(e.value('kubelet_pod_worker_duration_seconds_count', { operation_type: 'create' }), 1);
  assert.equal(e.value('kubelet_pod_worker_duration_seconds_count', { operation_type: 'sync' }), 1);
  assert.equal(e.value('kubelet_pod_start_duration_seconds_bucket', { le: '3' }), 1);
  assert.equal(e.value('kubelet_pod_start_duration_seconds_bucket', { le: '2' }), 0);
  assert.equal(e.value('mini_kubelet_sync_step_duration_seconds_sum', { step: 'preStop' }), 1.5);

  const b = parseExposition((await other.render()).body);
  assert.equal(b.value('kubelet_node_name', { node: 'node-b' }), 1);
  assert.equal(b.value('kubelet_node_name', { node: 'node-a' }), undefined);
  assert.equal(b.value('kubelet_started_pods_total'), 0);
  assert.equal(b.value('kubelet_runtime_operations_total', { operation_type: 'run_podsandbox' }), undefined);
  assert.doesNotMatch(await globalRegistry.metrics(), /kubelet_/, "prom-client's global registry stays empty of ours");
});

test('the executor times every step, failed or not, under its name', async () => {
  const m = createAgentMetrics('n');
  const deps = { logger: pino({ level: 'silent' }), metrics: m } as unknown as ExecutorDeps;
  const ref = { uid: 'u', name: 'p', namespace: 'default' };
  assert.equal(await step(deps, ref, 'pull', 'app', async () => 7), 7);
  await assert.rejects(step(deps, ref, 'pull', 'app', async () => { throw new Error('no'); }));
  await step(deps, ref, 'postStart', 'app', async () => undefined);
  const e = parseExposition((await m.render()).body);
  assert.equal(e.value('mini_kubelet_sync_step_duration_seconds_count', { step: 'pull' }), 2);
  assert.equal(e.value('mini_kubelet_sync_step_duration_seconds_count', { step: 'postStart' }), 1);
});

test('PLEG reports each relist, the interval between them, and sets the running gauges from what it found', async () => {
  const m = createAgentMetrics('n');
  let relists = 0;
  const runtime = {
    async relist() {
      relists++;
      if (relists === 2) throw new Error('runtime down');
      return relists === 1 ? [pod('a', 'ready', ['running'])] : [pod('a', 'ready', ['running']), pod('b', 'ready', ['running'])];
    },
  } as unknown as PodRuntime;
  // Pod a appears at the first relist, b at the third: two events end the wait on a condition, not a sleep.
  const events = await lastValueFrom(podLifecycleEvents(runtime, pino({ level: 'silent' }), { periodMs: 5, metrics: m }).pipe(take(2), toArray()));
  assert.deepEqual(events, ['a', 'b']);
  const e = parseExposition((await m.render()).body);
  assert.equal(e.value('kubelet_pleg_relist_duration_seconds_count'), 3, 'a failed relist is timed too');
  assert.equal(e.value('kubelet_pleg_relist_interval_seconds_count'), 2);
  assert.equal(e.value('kubelet_running_pods'), 2);
  assert.equal(e.value('kubelet_running_containers', { container_state: 'running' }), 2);
});
