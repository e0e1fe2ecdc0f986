// A stopped volume room starts nothing new: a setUp still in flight when the agent stops must
// not open a watch or arm a timer that nothing will end (an in-process agent's process hung so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { ObjectWatches } from '../../src/volume/object-watches.ts';
import { ServiceAccountTokens } from '../../src/volume/service-account-tokens.ts';
import type { VolumeSources } from '../../src/volume/pod-volumes.ts';

function countingSources(): VolumeSources & { watches: number } {
  const s = {
    watches: 0,
    getConfigMap: async () => undefined,
    getSecret: async () => undefined,
    getPersistentVolumeClaim: async () => undefined,
    getPersistentVolume: async () => undefined,
    requestServiceAccountToken: async () => ({ token: 't', expirationTimestamp: new Date(Date.now() + 3600_000) }),
    watchObject: () => {
      s.watches++;
      return () => {};
    },
  };
  return s;
}

test('after stop, ObjectWatches starts no watch', () => {
  const sources = countingSources();
  const watches = new ObjectWatches(sources, () => {});
  watches.use('a', [{ kind: 'ConfigMap', namespace: 'default', name: 'cm' }]);
  assert.equal(sources.watches, 1);
  watches.stop();
  watches.use('b', [{ kind: 'ConfigMap', namespace: 'default', name: 'other' }]);
  assert.equal(sources.watches, 1);
  assert.equal(watches.size, 0);
});

test('after stop, a token is still issued but no refresh is ever due', async () => {
  const sources = countingSources();
  const due: string[] = [];
  const tokens = new ServiceAccountTokens(sources, () => Date.now(), (uid) => due.push(uid));
  tokens.stop();
  const pod: V1Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [], serviceAccountName: 'default' } };
  const token = await tokens.token(pod, { path: 'token', expirationSeconds: 600 });
  assert.equal(token, 't');
  assert.equal(tokens.nextRefresh('u1'), undefined, 'nothing scheduled after stop');
});
