// Pod networking in runtime mode on real containerd: containerd runs CNI from the world's own
// bridge conflist, the agent only reads the sandbox IPs, and pods reach each other.
import assert from 'node:assert/strict';
import test from 'node:test';
import { requireE2e } from '../helpers/e2e.ts';
import { assertTwoPodsReachEachOther, startNetHarness } from '../helpers/net-harness.ts';

test('runtime network mode: two pods get distinct bridge IPs and reach each other over HTTP', { timeout: 240_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startNetHarness(t, 'runtime');
  const [a] = await assertTwoPodsReachEachOther(h, ['rt-web-a', 'rt-web-b']);
  // The IP the agent posted is the one containerd's CNI run gave the sandbox.
  const [sandbox] = await h.sandboxesOf(a.metadata!.uid!);
  const { status } = await h.cri.podSandboxStatus({ podSandboxId: sandbox!.id });
  assert.equal(status?.network?.ip, a.status?.podIP);
});
