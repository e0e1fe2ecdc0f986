// A token's renewal timer is the authority that the token is due: Node's timers run on a
// monotonic clock and may fire a millisecond before Date.now() reaches the renewal time. A
// sync woken by the timer that still found the old token "fresh" would keep it, and with no
// timer left armed, nothing would renew it before it expired.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { ServiceAccountTokens } from '../../src/volume/service-account-tokens.ts';
import type { VolumeSources } from '../../src/volume/pod-volumes.ts';

test('a token whose renewal timer fired is renewed even if the wall clock lags the timer', async () => {
  const now = Date.now();
  let issued = 0;
  const sources: VolumeSources = {
    getConfigMap: async () => undefined,
    getSecret: async () => undefined,
    getPersistentVolumeClaim: async () => undefined,
    getPersistentVolume: async () => undefined,
    // A 50 ms token (expirationSeconds 0.05): due at 40 ms.
    requestServiceAccountToken: async () => ({ token: `t${++issued}`, expirationTimestamp: new Date(now + 50) }),
    watchObject: () => () => {},
  };
  // The clock never moves: when the timer fires, the wall clock still reads before the due time.
  const due: string[] = [];
  let fired!: () => void;
  const firedOnce = new Promise<void>((resolve) => { fired = resolve; });
  const tokens = new ServiceAccountTokens(sources, () => now, (uid) => { due.push(uid); fired(); });
  const pod: V1Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };
  const projection = { path: 'token', expirationSeconds: 0.05 };
  assert.equal(await tokens.token(pod, projection), 't1');
  assert.equal(await tokens.token(pod, projection), 't1', 'not due yet: the cached token');
  await firedOnce;
  assert.deepEqual(due, ['u1']);
  assert.equal(await tokens.token(pod, projection), 't2', 'the timer said due: a new token');
  tokens.stop();
});
