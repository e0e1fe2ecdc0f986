import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodStatusCache } from '../../src/agent/pleg/pod-status-cache.ts';
import { fingerprint } from '../../src/agent/pleg/pleg-diff.ts';
import type { RuntimePodStatus } from '../../src/cri/runtime-manager/pod-runtime.ts';

const empty = (uid: string): RuntimePodStatus => ({ uid, name: uid, namespace: 'default', sandboxes: [], containers: [] });
const running = (uid: string, containerState: 'running' | 'exited' = 'running'): RuntimePodStatus => ({
  ...empty(uid),
  sandboxes: [{ id: `sb-${uid}`, state: 'ready', attempt: 0, createdAtMs: 1, runtimeHandler: '', ips: ['10.0.0.2'] }],
  containers: [{ id: `c-${uid}`, name: 'app', sandboxId: `sb-${uid}`, attempt: 0, state: containerState, createdAtMs: 2, image: 'i', imageRef: 'i', specHash: 'h' }],
});

/** A runtime whose answers the test sets, counting the reads. */
function fakeRuntime() {
  const pods = new Map<string, RuntimePodStatus>();
  let reads = 0;
  let gate: Promise<void> | undefined;
  return {
    pods,
    get reads() { return reads; },
    hold(p: Promise<void>) { gate = p; },
    read: async (uid: string): Promise<RuntimePodStatus> => {
      reads++;
      const answer = structuredClone(pods.get(uid) ?? empty(uid));
      if (gate) await gate;
      return answer;
    },
  };
}

const relist = (cache: PodStatusCache, ...pods: RuntimePodStatus[]) => {
  const token = cache.relistStarted();
  cache.relisted(token, new Map(pods.map((p) => [p.uid, fingerprint(p)])));
};

test('before any relist has completed, every first read asks the runtime', async () => {
  const rt = fakeRuntime();
  const cache = new PodStatusCache(rt.read);
  const { source } = await cache.read('a', 'a', 'default');
  assert.equal(source, 'runtime');
  assert.equal(rt.reads, 1);
});

test('a pod no relist saw and no worker touched holds nothing: no CRI read', async () => {
  const rt = fakeRuntime();
  const cache = new PodStatusCache(rt.read);
  relist(cache, running('other'));
  const { status, source } = await cache.read('new', 'new', 'ns1');
  assert.equal(source, 'known-empty');
  assert.deepEqual(status, { uid: 'new', name: 'new', namespace: 'ns1', sandboxes: [], containers: [] });
  assert.equal(rt.reads, 0);
});

test('a pod the relist saw is read from the runtime once, then from the cache while relists agree', async () => {
  const rt = fakeRuntime();
  rt.pods.set('a', running('a'));
  const cache = new PodStatusCache(rt.read);
  relist(cache, running('a'));
  assert.equal((await cache.read('a', 'a', 'default')).source, 'runtime');
  relist(cache, running('a'));
  const second = await cache.read('a', 'a', 'default');
  assert.equal(second.source, 'cache');
  assert.equal(second.status.containers[0].state, 'running');
  assert.equal(rt.reads, 1);
});

test('a relist that sees another shape drops the entry: the next read is fresh', async () => {
  const rt = fakeRuntime();
  rt.pods.set('a', running('a'));
  const cache = new PodStatusCache(rt.read);
  relist(cache, running('a'));
  await cache.read('a', 'a', 'default');
  rt.pods.set('a', running('a', 'exited'));
  relist(cache, running('a', 'exited'));
  const after = await cache.read('a', 'a', 'default');
  assert.equal(after.source, 'runtime');
  assert.equal(after.status.containers[0].state, 'exited');
});

test('a relist that no longer sees a cached pod drops it; a cached empty pod stays', async () => {
  const rt = fakeRuntime();
  rt.pods.set('a', running('a'));
  const cache = new PodStatusCache(rt.read);
  await cache.read('a', 'a', 'default'); // cached: running
  await cache.read('b', 'b', 'default'); // cached: empty
  relist(cache);
  const gone = await cache.read('a', 'a', 'default');
  assert.notEqual(gone.source, 'cache');
  assert.equal(gone.status.sandboxes.length, 0);
  assert.equal((await cache.read('b', 'b', 'default')).source, 'cache');
});

test('a worker that acted makes the pod no longer known-empty, and changed() drops the entry', async () => {
  const rt = fakeRuntime();
  const cache = new PodStatusCache(rt.read);
  relist(cache);
  assert.equal((await cache.read('a', 'a', 'default')).source, 'known-empty');
  cache.acting('a');
  rt.pods.set('a', running('a'));
  cache.changed('a');
  const after = await cache.read('a', 'a', 'default');
  assert.equal(after.source, 'runtime');
  assert.equal(after.status.sandboxes.length, 1);
  assert.equal((await cache.read('a', 'a', 'default')).source, 'cache');
});

test('a read overtaken by a change is answered but not cached', async () => {
  const rt = fakeRuntime();
  rt.pods.set('a', running('a'));
  const cache = new PodStatusCache(rt.read);
  let release!: () => void;
  rt.hold(new Promise<void>((r) => (release = r)));
  const inFlight = cache.read('a', 'a', 'default');
  cache.changed('a');
  release();
  assert.equal((await inFlight).source, 'runtime');
  assert.equal((await cache.read('a', 'a', 'default')).source, 'runtime');
  assert.equal(rt.reads, 2);
});

test('a forgotten pod counts as touched until a relist that began after forget() ends', async () => {
  const rt = fakeRuntime();
  const cache = new PodStatusCache(rt.read);
  relist(cache);
  for (const uid of ['a', 'b']) cache.acting(uid);
  const before = cache.relistStarted();
  cache.forget('a');
  cache.forget('b');
  cache.relisted(before, new Map());
  assert.equal((await cache.read('a', 'a', 'default')).source, 'runtime');
  relist(cache);
  assert.equal((await cache.read('b', 'b', 'default')).source, 'known-empty');
});

test('a runtime event holds the entry only when it already shows the change', async () => {
  const rt = fakeRuntime();
  rt.pods.set('a', running('a'));
  const cache = new PodStatusCache(rt.read);
  const table: Array<[id: string, change: 'created' | 'started' | 'stopped' | 'deleted', holds: boolean]> = [
    ['sb-a', 'created', true], ['sb-a', 'started', true], ['sb-a', 'stopped', false], ['sb-a', 'deleted', false],
    ['c-a', 'created', true], ['c-a', 'started', true], ['c-a', 'stopped', false], ['c-a', 'deleted', false],
    ['c-new', 'created', false], ['c-new', 'deleted', true],
  ];
  for (const [id, change, holds] of table) {
    await cache.read('a', 'a', 'default');
    assert.equal(cache.eventSeen('a', id, change), holds, `${id} ${change}`);
    assert.equal((await cache.read('a', 'a', 'default')).source, holds ? 'cache' : 'runtime', `${id} ${change}: next read`);
  }
  assert.equal(cache.eventSeen('unknown', 'x', 'created'), false);
});

test('a read in flight while a relist ends is kept only if the relist saw the same shape', async () => {
  for (const [relistSaw, kept] of [['running', true], ['exited', false]] as const) {
    const rt = fakeRuntime();
    rt.pods.set('a', running('a'));
    const cache = new PodStatusCache(rt.read);
    let release!: () => void;
    rt.hold(new Promise<void>((r) => (release = r)));
    const inFlight = cache.read('a', 'a', 'default');
    relist(cache, running('a', relistSaw));
    release();
    await inFlight;
    assert.equal((await cache.read('a', 'a', 'default')).source, kept ? 'cache' : 'runtime', `relist saw ${relistSaw}`);
  }
});

test('an event during a read in flight: the answer is kept only if it shows the change', async () => {
  for (const [change, kept] of [['started', true], ['stopped', false]] as const) {
    const rt = fakeRuntime();
    rt.pods.set('a', running('a'));
    const cache = new PodStatusCache(rt.read);
    let release!: () => void;
    rt.hold(new Promise<void>((r) => (release = r)));
    const inFlight = cache.read('a', 'a', 'default');
    assert.equal(cache.eventSeen('a', 'c-a', change), false);
    release();
    await inFlight;
    assert.equal((await cache.read('a', 'a', 'default')).source, kept ? 'cache' : 'runtime', `event ${change}`);
  }
});
