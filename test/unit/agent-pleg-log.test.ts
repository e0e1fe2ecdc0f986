// The PLEG's log at debug: one line a pod for what a relist found changed, nothing for a relist
// that found nothing new (it runs every second).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { ObservedContainerState, PodRuntime, RuntimePodStatus } from '../../src/cri/runtime-manager/pod-runtime.ts';
import { podLifecycleEvents } from '../../src/agent/pleg/pleg.ts';
import { pollFor } from '../../src/world/wait.ts';

function pod(uid: string, containers: Array<[string, ObservedContainerState]>): RuntimePodStatus {
  return {
    uid, name: `web-${uid}`, namespace: 'ns',
    sandboxes: [{ id: `sb-${uid}`, state: 'ready', attempt: 0, createdAtMs: 1, runtimeHandler: '', ips: [] }],
    containers: containers.map(([name, state]) => ({ id: `${uid}-${name}`, name, sandboxId: `sb-${uid}`, attempt: 0, state, createdAtMs: 1, image: 'i', imageRef: 'i', specHash: 'h' })),
  };
}

test('a relist that finds nothing new logs nothing; a change logs one line for the pod that changed', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  let world: RuntimePodStatus[] = [pod('a', [['app', 'running']])];
  let relists = 0;
  const runtime = { relist: async () => { relists++; return world; } } as unknown as PodRuntime;
  const woken: string[] = [];
  const sub = podLifecycleEvents(runtime, logger, { periodMs: 5 }).subscribe((uid) => woken.push(uid));
  try {
    await pollFor(async () => relists >= 1 || undefined, { what: 'a first relist', timeoutMs: 5000, intervalMs: 2 });
    await pollFor(async () => lines.length >= 1 || undefined, { what: 'the appearance line', timeoutMs: 5000, intervalMs: 2 });
    assert.deepEqual(lines.map((l) => [l.msg, l.pod, l.uid, l.change, l.containers]), [['PLEG: pod appeared', 'ns/web-a', 'a', 'appeared', 'app=running']]);
    // Quiet: many relists, nothing changed, nothing logged.
    const quietFrom = relists;
    await pollFor(async () => relists >= quietFrom + 10 || undefined, { what: 'ten quiet relists', timeoutMs: 5000, intervalMs: 2 });
    assert.equal(lines.length, 1, JSON.stringify(lines));
    world = [pod('a', [['app', 'exited']]), pod('b', [])];
    await pollFor(async () => lines.length >= 3 || undefined, { what: 'two change lines', timeoutMs: 5000, intervalMs: 2 });
    world = [pod('b', [])];
    await pollFor(async () => lines.length >= 4 || undefined, { what: 'the disappearance line', timeoutMs: 5000, intervalMs: 2 });
    const settled = relists;
    await pollFor(async () => relists >= settled + 5 || undefined, { what: 'more quiet relists', timeoutMs: 5000, intervalMs: 2 });
    assert.deepEqual(lines.slice(1).map((l) => [l.msg, l.pod, l.uid]), [
      ['PLEG: pod changed', 'ns/web-a', 'a'],
      ['PLEG: pod appeared', 'ns/web-b', 'b'],
      // Named from the relist before: the runtime no longer shows it.
      ['PLEG: pod disappeared', 'ns/web-a', 'a'],
    ]);
    assert.equal(lines[1]!.containers, 'app=exited');
    assert.ok(lines.every((l) => l.level === 20 && l.component === 'pleg'));
    assert.deepEqual(woken, ['a', 'a', 'b', 'a']);
  } finally {
    sub.unsubscribe();
  }
});
