// The status manager writes a pod's status only when it changed, coalesces a burst into
// the newest status, and removes fields the new status dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { KubeApi } from '../../src/agent/api/kube-api.ts';
import { StatusManager } from '../../src/agent/status/status-manager.ts';

function recordingApi() {
  const patches: Array<{ name: string; patch: any }> = [];
  let release: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  const api = {
    patchPodStatus: async (_ns: string, name: string, patch: object) => {
      await gate;
      patches.push({ name, patch });
      return {} as V1Pod;
    },
  } as unknown as KubeApi;
  return { api, patches, hold: () => { gate = new Promise((r) => (release = r)); }, release: () => release() };
}

const pod: V1Pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' }, status: { phase: 'Pending' } };
const running: V1PodStatus = { phase: 'Running', podIP: '10.0.0.2', startTime: new Date('2026-01-01T00:00:00Z') };

test('an unchanged status is not written again', async () => {
  const r = recordingApi();
  const sm = new StatusManager(r.api, pino({ level: 'silent' }));
  sm.set(pod, running);
  await sm.flush();
  sm.set(pod, { ...running, startTime: new Date('2026-01-01T00:00:00Z') });
  await sm.flush();
  assert.equal(r.patches.length, 1);
  assert.equal(r.patches[0].patch.status.phase, 'Running');
  // A Time as the API writes it: whole seconds, no ".000".
  assert.equal(r.patches[0].patch.status.startTime, '2026-01-01T00:00:00Z');
});

test('statuses set while a write is in flight collapse into the newest', async () => {
  const r = recordingApi();
  const sm = new StatusManager(r.api, pino({ level: 'silent' }));
  r.hold();
  sm.set(pod, running);
  sm.set({ ...pod, metadata: { ...pod.metadata, name: 'web' } }, { ...running, podIP: '10.0.0.3' });
  sm.set(pod, { ...running, podIP: '10.0.0.4' });
  r.release();
  await sm.flush();
  assert.ok(r.patches.length <= 2);
  assert.equal(r.patches.at(-1)!.patch.status.podIP, '10.0.0.4');
  assert.equal(sm.latest('u1')?.podIP, '10.0.0.4');
});

test('a field the new status lacks is removed with null', async () => {
  const r = recordingApi();
  const sm = new StatusManager(r.api, pino({ level: 'silent' }));
  sm.set(pod, { ...running, message: 'old' });
  await sm.flush();
  sm.set(pod, running);
  await sm.flush();
  assert.equal(r.patches.length, 2);
  assert.equal(r.patches[1].patch.status.message, null);
});
