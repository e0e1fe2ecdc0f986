// Hard times on a real node: the agent is SIGKILLed in the middle of creating 110 pods, and 20
// of them are deleted (half gracefully, half by force) while it is down. After the restart every
// remaining pod runs with exactly one sandbox, and the deleted ones leave nothing behind: no
// sandbox, no container, no host-local IP lease, no network namespace, no pods/<uid> directory.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, namespace, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';
import { isEmpty, leftoversOf, worldIpLeases, worldNetns, type PodLeftovers } from '../helpers/node-leftovers.ts';

const podCount = 110;
const deletedCount = 20;
/** Kill once this many pods run: well inside the creation of the 110. */
const killAtRunning = 25;

async function listPods(h: AgentHarness): Promise<V1Pod[]> {
  return (await h.core.listNamespacedPod({ namespace, labelSelector: 'suite=crash' })).items;
}

test('agent SIGKILLed while creating 110 pods, 20 deleted while it is down: one sandbox per survivor, nothing left of the deleted', { timeout: 480_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t, { nodeName: 'crash-e2e', kubeletConfig: { maxPods: podCount + 10 } });
  const busybox = h.world.images.busybox;
  const names = Array.from({ length: podCount }, (_, i) => `crash-${String(i).padStart(3, '0')}`);
  const tiny = (name: string): V1Pod => {
    const pod = busyboxPod(name, busybox, { terminationGracePeriodSeconds: 1 });
    pod.metadata!.labels = { suite: 'crash' };
    return pod;
  };
  const uids = new Map<string, string>();
  // Created in waves so the agent is busy creating when it dies, not just receiving.
  const creating = (async () => {
    for (let i = 0; i < names.length; i += 10) {
      const created = await Promise.all(names.slice(i, i + 10).map((n) => h.createPod(tiny(n))));
      for (const p of created) uids.set(p.metadata!.name!, p.metadata!.uid!);
    }
  })();

  let runningAtKill = 0;
  await waitFor(async () => {
    runningAtKill = (await listPods(h)).filter((p) => p.status?.phase === 'Running').length;
    return runningAtKill >= killAtRunning;
  }, { timeoutMs: 240_000, intervalMs: 100, what: `${killAtRunning} pods Running\n${h.agentLogTail(20)}` });
  await h.killAgent();
  assert.equal(await h.agent.exited, 'SIGKILL');
  await creating;
  const atKill = await listPods(h);
  const runningNames = atKill.filter((p) => p.status?.phase === 'Running').map((p) => p.metadata!.name!);
  runningAtKill = runningNames.length;
  assert.ok(runningAtKill < podCount, `the kill came mid-creation (${runningAtKill} of ${podCount} running)`);
  const notRunning = names.filter((n) => !runningNames.includes(n));

  // Half of the deleted ran, half were the next in line, being created when the agent died; half
  // of each kind deleted gracefully (the pod waits for the node), half by force (gone at once).
  const deleted = [...runningNames.slice(0, deletedCount / 2), ...notRunning.slice(0, deletedCount / 2)];
  assert.equal(deleted.length, deletedCount);
  // The sandboxes the deleted pods have now, so their leases count even once CRI forgets them.
  const sandboxIdsOfDeleted = new Set<string>();
  let deletedWithSandbox = 0;
  for (const name of deleted) {
    const sandboxes = await h.sandboxesOf(uids.get(name)!);
    if (sandboxes.length) deletedWithSandbox++;
    for (const s of sandboxes) sandboxIdsOfDeleted.add(s.id);
  }
  await Promise.all(deleted.map((name, i) => (i % 2 === 0
    ? h.core.deleteNamespacedPod({ name, namespace })
    : h.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }))));
  const survivors = names.filter((n) => !deleted.includes(n));

  const restartedAt = performance.now();
  await h.startAgent();

  // Every survivor Running, every deleted pod gone from the API.
  let last = '';
  await waitFor(async () => {
    const pods = await listPods(h);
    const running = pods.filter((p) => p.status?.phase === 'Running' && survivors.includes(p.metadata!.name!)).length;
    const stillThere = pods.filter((p) => deleted.includes(p.metadata!.name!)).length;
    last = `${running}/${survivors.length} survivors running, ${stillThere} deleted pods still in the API`;
    return running === survivors.length && stillThere === 0;
  }, { timeoutMs: 300_000, intervalMs: 250, what: `the survivors to run and the deleted pods to go` }).catch((err) => {
    throw new Error(`${(err as Error).message}; last: ${last}\n${h.agentLogTail(30)}`);
  });
  const allRunningS = Math.round((performance.now() - restartedAt) / 100) / 10;

  // Nothing of the deleted pods is left; garbage collection may take a pass, so await it.
  const leaked: Record<string, PodLeftovers> = {};
  await waitFor(async () => {
    for (const name of deleted) {
      const l = await leftoversOf(h, uids.get(name)!, sandboxIdsOfDeleted);
      if (isEmpty(l)) delete leaked[name];
      else leaked[name] = l;
    }
    return Object.keys(leaked).length === 0;
  }, { timeoutMs: 90_000, intervalMs: 500, what: 'the deleted pods to leave nothing behind' }).catch((err) => {
    throw new Error(`${(err as Error).message}\nleft: ${JSON.stringify(leaked)}\n${h.agentLogTail(30)}`);
  });

  // Every survivor: exactly one sandbox (any state), ready, with one running container. A pod
  // whose sandbox the kill left half made (created, its network not yet set up) gets a new one,
  // and the old, stopped one stays until garbage collection removes it (as the kubelet's does,
  // once a minute), so the count is awaited over one collection period.
  let sandboxesPerPodMax = 0;
  let firstLook = true;
  let extra = '';
  await waitFor(async () => {
    extra = '';
    for (const name of survivors) {
      const sandboxes = await h.sandboxesOf(uids.get(name)!);
      if (firstLook) sandboxesPerPodMax = Math.max(sandboxesPerPodMax, sandboxes.length);
      if (sandboxes.length !== 1) extra += `${name}: ${sandboxes.map((s) => `${s.id.slice(0, 12)} ${s.state}`).join(', ')}; `;
    }
    firstLook = false;
    return extra === '';
  }, { timeoutMs: 100_000, intervalMs: 1000, what: 'one sandbox per survivor' }).catch((err) => {
    throw new Error(`${(err as Error).message}: ${extra}\n${h.agentLogTail(30)}`);
  });
  const survivorSandboxes = new Set<string>();
  for (const name of survivors) {
    const sandboxes = await h.sandboxesOf(uids.get(name)!);
    assert.equal(sandboxes.length, 1, `${name}: exactly one sandbox (${sandboxes.map((s) => `${s.id.slice(0, 12)} ${s.state}`).join(', ')})`);
    assert.equal(sandboxes[0]!.state, 'SANDBOX_READY', `${name}: its sandbox is ready`);
    survivorSandboxes.add(sandboxes[0]!.id);
    const { containers } = await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uids.get(name)! } } });
    assert.equal(containers.filter((c) => c.state === 'CONTAINER_RUNNING').length, 1, `${name}: one running container`);
  }
  // Node-wide: one lease and one netns per surviving sandbox, none of anything else.
  const leases = worldIpLeases(h);
  const strayLeases = leases.filter((l) => !survivorSandboxes.has(l.sandboxId));
  const netns = worldNetns(h);
  const { items: allSandboxes } = await h.cri.listPodSandbox({});
  const figures = {
    pods: podCount,
    killed_at_running: runningAtKill,
    deleted_while_down: deletedCount,
    deleted_with_sandbox_at_kill: deletedWithSandbox,
    survivors: survivors.length,
    sandboxes_per_pod_max_before_gc: sandboxesPerPodMax,
    all_running_after_restart_s: allRunningS,
    leaked: { pods: Object.keys(leaked).length, stray_ip_leases: strayLeases.length, netns_over_survivors: netns.length - survivors.length, sandboxes_over_survivors: allSandboxes.length - survivors.length },
  };
  console.log(JSON.stringify(figures));
  assert.deepEqual(strayLeases, [], 'no IP lease of a sandbox that is not a survivor\'s');
  assert.equal(leases.length, survivors.length, 'one IP lease per survivor');
  assert.equal(netns.length, survivors.length, 'one network namespace per survivor');
  assert.equal(allSandboxes.length, survivors.length, 'no sandbox but the survivors\'');
});
