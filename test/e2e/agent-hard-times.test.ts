// Hard times on a real node: containerd killed (SIGKILL) and started again while 10 pods run.
// The node goes NotReady while the runtime is down and Ready again within 5 s of containerd
// answering again, and no container restarts (same container IDs, same restartCount).
// Node status is computed at the kubelet's default period (10 s), not the harness's quick one,
// so the figure measures how the agent reacts to the runtime coming back, not a short period.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { CriClient } from '../../src/cri/client.ts';
import { pollFor, waitFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

const podCount = 10;
const readyBoundS = 5;

async function runningContainerIds(h: AgentHarness, uid: string): Promise<string[]> {
  const { containers } = await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
  return containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => c.id).sort();
}

async function readyStatus(h: AgentHarness): Promise<string | undefined> {
  const node = await h.core.readNode({ name: h.nodeName });
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

test('containerd killed and restarted under 10 pods: NotReady, Ready within 5 s of its return, no container restarted', { timeout: 300_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t, { kubeletConfig: { nodeStatusUpdateFrequency: '10s' } });
  const busybox = h.world.images.busybox;
  const names = Array.from({ length: podCount }, (_, i) => `hard-times-${i}`);
  await Promise.all(names.map((name) => h.createPod(busyboxPod(name, busybox))));
  const before = new Map<string, V1Pod>();
  await Promise.all(names.map(async (name) => before.set(name, (await h.waitForPod(name, 'Running and Ready', isRunningAndReady, 120_000))!)));
  const uid = (name: string) => before.get(name)!.metadata!.uid!;
  const idsBefore = new Map<string, string[]>();
  for (const name of names) {
    const ids = await runningContainerIds(h, uid(name));
    assert.equal(ids.length, 1, `${name} runs one container`);
    idsBefore.set(name, ids);
  }

  await h.world.killContainerd();
  await waitFor(async () => (await readyStatus(h)) === 'False', { timeoutMs: 30_000, intervalMs: 100, what: 'the node to go NotReady with containerd down' });

  // Containerd "is back" once its socket answers Version; from then on the node has 5 s.
  const probe = CriClient.connect(h.world.containerdEndpoint, { timeoutMs: 1000 });
  t.after(() => probe.close());
  const restarted = h.world.restartContainerd();
  restarted.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
  const backAt = await pollFor(async () => {
    await probe.version();
    return performance.now();
  }, { timeoutMs: 60_000, intervalMs: 20, what: 'containerd to answer Version again' });
  const readyAt = await pollFor(async () => (await readyStatus(h)) === 'True' && performance.now(),
    { timeoutMs: 60_000, intervalMs: 100, what: `the node to be Ready again\nagent log:\n${h.agentLogTail(20)}` });
  await restarted;
  const seconds = Math.round((readyAt - backAt) / 100) / 10;
  console.log(JSON.stringify({ ready_after_runtime_back_s: seconds }));
  assert.ok(seconds <= readyBoundS, `node Ready ${seconds} s after containerd was back (bound ${readyBoundS} s)`);

  // A pod created now runs only once the agent is working through its pods again, so by then
  // every old pod has been relisted (and would have been restarted, were it to be).
  await h.createPod(busyboxPod('after-hard-times', busybox));
  await h.waitForPod('after-hard-times', 'Running and Ready', isRunningAndReady, 60_000);
  for (const name of names) {
    const pod = (await h.waitForPod(name, 'Running and Ready', isRunningAndReady))!;
    const now = pod.status!.containerStatuses![0]!;
    const old = before.get(name)!.status!.containerStatuses![0]!;
    assert.equal(now.containerID, old.containerID, `${name} keeps its container`);
    assert.equal(now.restartCount, old.restartCount, `${name} did not restart`);
    assert.deepEqual(await runningContainerIds(h, uid(name)), idsBefore.get(name), `${name}: the same container runs`);
    assert.equal((await h.sandboxesOf(uid(name))).length, 1, `${name}: never a second sandbox`);
  }
});
