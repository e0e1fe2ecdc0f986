// The event recorder folds events as the kubelet's correlator does: an exact repeat raises the
// count of the first; past 10 different messages of one reason about one object, the rest are
// combined into a single event, so a failing probe with changing output cannot flood the stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { createEventRecorder, rememberedEvents } from '../../src/agent/events/event-recorder.ts';
import type { KubeApi } from '../../src/agent/api/kube-api.ts';
import { pollFor } from '../../src/world/wait.ts';

function fakeApi() {
  const created: CoreV1Event[] = [];
  const patches: Array<{ name: string; patch: Record<string, unknown> }> = [];
  const api = {
    createEvent: async (e: CoreV1Event) => { created.push(e); return e; },
    patchEvent: async (_ns: string, name: string, patch: Record<string, unknown>) => { patches.push({ name, patch }); return {} as CoreV1Event; },
  } as unknown as KubeApi;
  return { api, created, patches };
}

const pod: V1Pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' } };

test('an exact repeat is counted on the first event', async () => {
  const { api, created, patches } = fakeApi();
  const rec = createEventRecorder(api, 'node-a', pino({ level: 'silent' }));
  for (let i = 0; i < 3; i++) rec.record(pod, { type: 'Warning', reason: 'Unhealthy', message: 'Liveness probe failed: boom', container: 'app' });
  await pollFor(() => patches.length === 2, { timeoutMs: 5000, intervalMs: 10, what: 'two count patches' });
  assert.equal(created.length, 1);
  assert.equal(created[0]!.involvedObject.fieldPath, 'spec.containers{app}');
  assert.deepEqual(patches.map((p) => p.patch.count), [2, 3]);
});

test('past 10 different messages of one reason, the rest are combined into one event', async () => {
  const { api, created, patches } = fakeApi();
  const rec = createEventRecorder(api, 'node-a', pino({ level: 'silent' }));
  for (let i = 0; i < 14; i++) rec.record(pod, { type: 'Warning', reason: 'Unhealthy', message: `Readiness probe failed: attempt ${i}`, container: 'app' });
  rec.record(pod, { type: 'Normal', reason: 'Pulled', message: 'another reason is not combined' });
  await pollFor(() => created.length + patches.length === 15, { timeoutMs: 5000, intervalMs: 10, what: 'all 15 recorded' });
  const unhealthy = created.filter((e) => e.reason === 'Unhealthy');
  assert.equal(unhealthy.length, 11, 'ten events as they came, then one combined');
  assert.equal(unhealthy[10]!.message, '(combined from similar events): Readiness probe failed: attempt 10');
  assert.deepEqual(patches.map((p) => [p.name, p.patch.count, p.patch.message]), [11, 12, 13].map((i, n) =>
    [unhealthy[10]!.metadata!.name, n + 2, `(combined from similar events): Readiness probe failed: attempt ${i}`]));
  assert.ok(created.some((e) => e.reason === 'Pulled'));
});

test('a pod with a 253-character name still gets events: the event name is cut to a valid DNS subdomain', async () => {
  // Found by the pod-spec fuzzer (npm run fuzz -- --seed 2 --only 4): "<pod name>.<hex>" passed 253
  // characters, the API refused every event, and the pod sat Pending with nothing saying why.
  // A '-' right where the cut falls (236 characters + "." + 16 hex digits): it must not end a label.
  const long = `fz4.${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(39)}-${'d'.repeat(17)}`;
  assert.equal(long.length, 253);
  const { api, created } = fakeApi();
  const rec = createEventRecorder(api, 'node-a', pino({ level: 'silent' }));
  rec.record({ metadata: { name: long, namespace: 'default', uid: 'u2' } }, { type: 'Warning', reason: 'FailedMount', message: 'secret "x" not found' });
  await pollFor(() => created.length === 1, { timeoutMs: 5000, intervalMs: 10, what: 'the event' });
  const name = created[0]!.metadata!.name!;
  assert.ok(name.length <= 253, `${name.length} characters`);
  assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
  assert.equal(created[0]!.involvedObject.name, long, 'the pod is named in full where it matters');
});

test('past 4096 remembered events the oldest is forgotten: its repeat is a new event, a recent one\'s still a count', async () => {
  const { api, created, patches } = fakeApi();
  const rec = createEventRecorder(api, 'node-a', pino({ level: 'silent' }), { qps: 1e9, burst: 1e9 });
  const podNo = (i: number): V1Pod => ({ metadata: { name: `p${i}`, namespace: 'default', uid: `u${i}` } });
  const started = { type: 'Normal', reason: 'Started', message: 'Started container app', container: 'app' } as const;
  for (let i = 0; i <= rememberedEvents; i++) rec.record(podNo(i), started);
  rec.record(podNo(0), started);
  rec.record(podNo(rememberedEvents), started);
  await pollFor(() => created.length + patches.length === rememberedEvents + 3, { timeoutMs: 20_000, intervalMs: 10, what: 'all recorded' });
  assert.equal(created.length, rememberedEvents + 2, 'pod 0 was forgotten: a new event');
  assert.deepEqual(patches.map((p) => p.name), [created.at(-2)!.metadata!.name], 'the newest one is counted');
});

test("one pod's slow event does not hold up another pod's: pods' events go out side by side", async () => {
  // Found by the fuzzer under load (npm run fuzz -- --seed 1 --count 300 --parallel 20, index 143):
  // every event went out one at a time, so one pod's FailedCreatePodSandBox waited behind the
  // events of every busy pod and came after its 30 s deadline.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const created: CoreV1Event[] = [];
  const api = {
    createEvent: async (e: CoreV1Event) => {
      created.push(e);
      if (e.involvedObject.uid === 'slow') await held;
      return e;
    },
    patchEvent: async () => ({}) as CoreV1Event,
  } as unknown as KubeApi;
  const rec = createEventRecorder(api, 'node-a', pino({ level: 'silent' }));
  rec.record({ metadata: { name: 'slow', namespace: 'default', uid: 'slow' } }, { type: 'Normal', reason: 'Pulled', message: 'held' });
  rec.record({ metadata: { name: 'other', namespace: 'default', uid: 'other' } }, { type: 'Warning', reason: 'FailedCreatePodSandBox', message: 'no handler' });
  try {
    await pollFor(() => created.some((e) => e.involvedObject.uid === 'other'), { timeoutMs: 3000, intervalMs: 10, what: "the other pod's event while the first is held" });
  } finally {
    release();
  }
});

test('one object may send 25 events in a burst, then one per 5 minutes (the kubelet spam filter)', async () => {
  const { api, created } = fakeApi();
  let now = Date.parse('2026-01-01T00:00:00Z');
  const rec = createEventRecorder(api, 'node-a', pino({ level: 'silent' }), undefined, () => now);
  for (let i = 0; i < 30; i++) rec.record(pod, { type: 'Normal', reason: `Reason${i}`, message: `m${i}` });
  rec.record({ metadata: { name: 'db', namespace: 'default', uid: 'u9' } }, { type: 'Normal', reason: 'Pulled', message: 'another object is not limited' });
  await pollFor(() => created.some((e) => e.involvedObject.uid === 'u9'), { timeoutMs: 5000, intervalMs: 10, what: "the other object's event" });
  await pollFor(() => created.filter((e) => e.involvedObject.uid === 'u1').length === 25, { timeoutMs: 5000, intervalMs: 10, what: '25 events of the noisy pod' });
  now += 5 * 60_000;
  rec.record(pod, { type: 'Normal', reason: 'Later', message: 'after five minutes' });
  await pollFor(() => created.some((e) => e.reason === 'Later'), { timeoutMs: 5000, intervalMs: 10, what: 'one more after five minutes' });
  assert.equal(created.filter((e) => e.involvedObject.uid === 'u1').length, 26);
});
