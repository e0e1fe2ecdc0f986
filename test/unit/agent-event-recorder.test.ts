// The event recorder folds events as the kubelet's correlator does: an exact repeat raises the
// count of the first; past 10 different messages of one reason about one object, the rest are
// combined into a single event, so a failing probe with changing output cannot flood the stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { createEventRecorder } from '../../src/agent/events/event-recorder.ts';
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
