// An agent killed with SIGKILL and started again on the same --root-dir: the containers it
// started keep running and are adopted (same container IDs, no restart, no second sandbox),
// and pods deleted while it was down (gracefully or by force) are cleaned up after it returns.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { pidAlive } from '../../src/world/daemon.ts';
import { waitFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

async function runningContainerIds(h: AgentHarness, uid: string): Promise<string[]> {
  const { containers } = await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
  return containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => c.id).sort();
}

test('a restarted agent adopts running pods and cleans up pods deleted while it was down', { timeout: 240_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t);
  const busybox = h.world.images.busybox;
  const names = ['survivor', 'deleted-gracefully', 'deleted-by-force'];
  for (const name of names) await h.createPod(busyboxPod(name, busybox));
  const before = new Map<string, V1Pod>();
  for (const name of names) before.set(name, (await h.waitForPod(name, 'Running and Ready', isRunningAndReady))!);
  const uid = (name: string) => before.get(name)!.metadata!.uid!;
  const survivorIds = await runningContainerIds(h, uid('survivor'));
  assert.equal(survivorIds.length, 1);

  await t.test('SIGKILL stops the agent but not its containers', async () => {
    const { pid } = h.agent;
    await h.killAgent();
    assert.equal(await h.agent.exited, 'SIGKILL');
    assert.equal(pidAlive(pid), false);
    assert.deepEqual(await runningContainerIds(h, uid('survivor')), survivorIds);
  });

  await t.test('pods are deleted while the agent is down', async () => {
    await h.kubectl('delete', 'pod', 'deleted-gracefully', '--wait=false');
    // A graceful deletion waits for the node to confirm: the pod stays, terminating.
    const terminating = await h.core.readNamespacedPod({ name: 'deleted-gracefully', namespace: 'default' });
    assert.ok(terminating.metadata?.deletionTimestamp);
    // A forced one is gone from the API at once; only the node still holds its containers.
    await h.kubectl('delete', 'pod', 'deleted-by-force', '--force', '--grace-period=0', '--wait=false');
    await h.waitForPodGone('deleted-by-force', 10_000);
    assert.equal((await runningContainerIds(h, uid('deleted-by-force'))).length, 1);
  });

  await t.test('after the restart both deleted pods are cleaned up', async () => {
    await h.startAgent();
    await h.waitForPodGone('deleted-gracefully', 60_000);
    for (const name of ['deleted-gracefully', 'deleted-by-force']) {
      await waitFor(async () => (await h.sandboxesOf(uid(name))).length === 0,
        { timeoutMs: 60_000, intervalMs: 250, what: `the sandbox of ${name} to be removed` });
      assert.deepEqual(await runningContainerIds(h, uid(name)), []);
    }
  });

  await t.test('the surviving pod keeps its containers: same IDs, no restart, one sandbox', async () => {
    // A pod created after the restart runs only once the agent is working through its pods, so
    // by then the survivor has had its first sync under the new agent.
    await h.createPod(busyboxPod('after-restart', busybox));
    await h.waitForPod('after-restart', 'Running and Ready', isRunningAndReady);
    const pod = (await h.waitForPod('survivor', 'Running and Ready', isRunningAndReady))!;
    const status = pod.status!.containerStatuses![0]!;
    const old = before.get('survivor')!.status!.containerStatuses![0]!;
    assert.equal(status.containerID, old.containerID);
    assert.equal(status.restartCount, old.restartCount);
    // Watch events carry strings, reads carry Dates: compare instants.
    assert.equal(new Date(status.state!.running!.startedAt!).getTime(), new Date(old.state!.running!.startedAt!).getTime());
    assert.equal(pod.status?.podIP, before.get('survivor')!.status?.podIP);
    assert.deepEqual(await runningContainerIds(h, uid('survivor')), survivorIds);
    const sandboxes = await h.sandboxesOf(uid('survivor'));
    assert.equal(sandboxes.length, 1, 'never a second sandbox');
    assert.equal(sandboxes[0]!.state, 'SANDBOX_READY');
  });
});
