// While an object is watched, syncs reuse the copy last read; its watch's change, a minute
// passing, or the watch ending makes the next read ask the API server again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { cachedBehindWatches } from '../../src/volume/watched-object-cache.ts';
import type { VolumeSources } from '../../src/volume/pod-volumes.ts';

function fakeSources() {
  const state = { reads: 0, value: 'one' as string | undefined, fire: () => {} };
  const sources: VolumeSources = {
    getConfigMap: async () => {
      state.reads++;
      return state.value === undefined ? undefined : ({ data: { k: state.value } } as V1ConfigMap);
    },
    getSecret: async () => undefined,
    getPersistentVolumeClaim: async () => undefined,
    getPersistentVolume: async () => undefined,
    requestServiceAccountToken: async () => ({ token: 't', expirationTimestamp: new Date() }),
    watchObject: (_kind, _ns, _name, onChange) => {
      state.fire = onChange;
      return () => {};
    },
  };
  return { state, sources };
}

test('a watched ConfigMap is read once per change, not once per sync', async () => {
  const { state, sources } = fakeSources();
  let now = 0;
  const cached = cachedBehindWatches(sources, () => now);
  let changes = 0;
  const stop = cached.watchObject('ConfigMap', 'default', 'cm', () => changes++);
  assert.equal((await cached.getConfigMap('default', 'cm'))?.data?.k, 'one');
  await cached.getConfigMap('default', 'cm');
  assert.equal(state.reads, 1, 'the second sync reuses the copy');

  state.value = 'two';
  state.fire();
  assert.equal(changes, 1, 'the caller still hears of the change');
  assert.equal((await cached.getConfigMap('default', 'cm'))?.data?.k, 'two');
  assert.equal(state.reads, 2);

  now += 60_000;
  await cached.getConfigMap('default', 'cm');
  assert.equal(state.reads, 3, 'a minute-old copy is read again');

  stop();
  await cached.getConfigMap('default', 'cm');
  await cached.getConfigMap('default', 'cm');
  assert.equal(state.reads, 5, 'an object nobody watches is never kept');
});

test('a missing object is not kept: it is read again until it appears', async () => {
  const { state, sources } = fakeSources();
  const cached = cachedBehindWatches(sources, () => 0);
  cached.watchObject('ConfigMap', 'default', 'late', () => {});
  state.value = undefined;
  assert.equal(await cached.getConfigMap('default', 'late'), undefined);
  state.value = 'here';
  assert.equal((await cached.getConfigMap('default', 'late'))?.data?.k, 'here');
  assert.equal(state.reads, 2);
});
