// The prober manager (src/agent/prober/prober-manager.ts) with a fake exec: which probes keep running
// once the pod is terminating. As the kubelet's prober workers: liveness and startup stop (they must
// not restart what is being stopped); readiness goes on, so the status can show the containers stop
// serving during the grace period; forget stops everything.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { discardEvents } from '../../src/agent/events/event-recorder.ts';
import { createProberManager } from '../../src/agent/prober/prober-manager.ts';
import type { RuntimePodStatus } from '../../src/cri/runtime-manager/pod-runtime.ts';
import { pollFor } from '../../src/world/wait.ts';

const uid = 'uid-1';
const pod: V1Pod = {
  metadata: { name: 'p', namespace: 'default', uid },
  spec: {
    containers: [{
      name: 'app', image: 'busybox',
      readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1, failureThreshold: 1 },
      livenessProbe: { exec: { command: ['live'] }, periodSeconds: 1, failureThreshold: 1 },
    }],
  },
};
const observed: RuntimePodStatus = {
  uid, name: 'p', namespace: 'default',
  sandboxes: [{ id: 'sb', state: 'ready', attempt: 0, createdAtMs: 0, runtimeHandler: '', ips: ['10.0.0.2'] }],
  containers: [{ id: 'c1', name: 'app', sandboxId: 'sb', attempt: 0, state: 'running', createdAtMs: 0, startedAtMs: 0, image: 'busybox', imageRef: 'sha256:x', specHash: 'h' }],
};

test('terminating: readiness keeps probing (and its verdict changes), liveness stops; forget stops all', async () => {
  const calls: string[] = [];
  let readyExit = 0;
  const prober = createProberManager({
    exec: async (_id, cmd) => {
      calls.push(cmd[0]!);
      return { exitCode: cmd[0] === 'ready' ? readyExit : 0, stdout: '', stderr: '' };
    },
    events: discardEvents,
    logger: pino({ level: 'silent' }),
  });
  const changes: string[] = [];
  prober.changes.subscribe((u) => changes.push(u));
  try {
    prober.track(pod, observed, '10.0.0.2');
    await pollFor(() => prober.results('c1')?.readiness === 'success', { timeoutMs: 5000, intervalMs: 10, what: 'the first probes' });
    assert.deepEqual([...calls].sort(), ['live', 'ready']);
    assert.deepEqual(prober.results('c1'), { liveness: 'success', readiness: 'success' });

    prober.terminating(uid);
    assert.deepEqual(prober.results('c1'), { readiness: 'success' }, 'no liveness verdict: nothing may restart the container now');
    calls.length = 0;
    changes.length = 0;
    readyExit = 1; // the container stops serving during its grace period
    await pollFor(() => prober.results('c1')?.readiness === 'failure', { timeoutMs: 5000, intervalMs: 20, what: 'the readiness verdict to fail' });
    assert.deepEqual(calls, ['ready'], 'only readiness ran');
    assert.deepEqual(prober.results('c1'), { readiness: 'failure' });
    assert.deepEqual(changes, [uid], 'the changed verdict wakes the pod');

    prober.forget(uid);
    assert.equal(prober.results('c1'), undefined);
  } finally {
    prober.stop();
  }
});

test('a period longer than a timer can hold waits, instead of probing in a busy loop', async () => {
  let calls = 0;
  const prober = createProberManager({
    exec: async () => { calls++; return { exitCode: 0, stdout: '', stderr: '' }; },
    events: discardEvents,
    logger: pino({ level: 'silent' }),
  });
  const slow: V1Pod = { ...pod, spec: { containers: [{ name: 'app', image: 'busybox', readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 3_000_000 } }] } };
  try {
    prober.track(slow, observed, '10.0.0.2');
    await pollFor(() => prober.results('c1')?.readiness === 'success', { timeoutMs: 5000, intervalMs: 10, what: 'the first probe' });
    // An overflowing setTimeout fires after 1 ms: in 200 ms that would be many more probes.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(calls, 1, 'the first probe, then a wait of 34 days');
  } finally {
    prober.stop();
  }
});
