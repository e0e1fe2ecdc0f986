// Hard times on a real node: the API server stalls for 60 s (SIGSTOP, then SIGCONT; its sockets
// stay open and silent, as a hung control plane's do). The agent does not exit and its pods keep
// running (same containers); within 10 s of SIGCONT the node lease is renewed (renewTime after
// the SIGCONT), a pod created after SIGCONT runs and a pod deleted after SIGCONT is removed.
// The dev control plane runs as its own process here, so the test can signal it.
import assert from 'node:assert/strict';
import test from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CoordinationV1Api, type V1Pod } from '@kubernetes/client-node';
import { pollFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, namespace, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

const stallMs = 60_000;
const boundS = 10;

async function runningContainerIds(h: AgentHarness, uid: string): Promise<string[]> {
  const { containers } = await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
  return containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => c.id).sort();
}

test('API server stalled for 60 s: pods keep running, and within 10 s of its return the lease is renewed, a new pod runs, a deleted one goes', { timeout: 300_000 }, async (t) => {
  if (!requireE2e(t)) return;
  // The kubelet's default lease renewal (10 s, a quarter of the 40 s lease) and status period.
  const h = await startAgentHarness(t, { nodeName: 'stall-e2e', apiServerProcess: true, kubeletConfig: { nodeStatusUpdateFrequency: '10s' } });
  const busybox = h.world.images.busybox;
  const apiPid = h.apiServerPid!;
  const coordination = h.kubeConfig.makeApiClient(CoordinationV1Api);
  t.after(() => {
    try {
      process.kill(apiPid, 'SIGCONT'); // never leave it stopped, whatever failed
    } catch {
      // gone already
    }
  });
  const names = ['steady-a', 'steady-b', 'to-delete'];
  await Promise.all(names.map((n) => h.createPod(busyboxPod(n, busybox))));
  const before = new Map<string, V1Pod>();
  await Promise.all(names.map(async (n) => before.set(n, (await h.waitForPod(n, 'Running and Ready', isRunningAndReady))!)));
  const uid = (n: string) => before.get(n)!.metadata!.uid!;
  const idsBefore = new Map<string, string[]>();
  for (const n of names) idsBefore.set(n, await runningContainerIds(h, uid(n)));
  let agentExited: unknown;
  void h.agent.exited.then((v) => (agentExited = v));

  process.kill(apiPid, 'SIGSTOP');
  const stoppedAt = performance.now();
  // The stall is the test's input, not a condition to await: it lasts its 60 s. Near its end
  // the agent lives and the pods run on, untouched.
  await delay(stallMs - 5000);
  for (const n of names) assert.deepEqual(await runningContainerIds(h, uid(n)), idsBefore.get(n), `${n} runs on during the stall`);
  await delay(Math.max(0, stallMs - (performance.now() - stoppedAt)));
  assert.equal(agentExited, undefined, 'the agent did not exit while the API server was stalled');

  process.kill(apiPid, 'SIGCONT');
  const contAt = performance.now();
  const contDate = new Date();
  const since = () => Math.round((performance.now() - contAt) / 100) / 10;

  // Three clocks from SIGCONT, run side by side.
  const lease = pollFor(async () => {
    const l = await coordination.readNamespacedLease({ namespace: 'kube-node-lease', name: h.nodeName });
    const renew = l.spec?.renewTime ? new Date(l.spec.renewTime as unknown as string) : undefined;
    return renew && renew.getTime() > contDate.getTime() ? since() : undefined;
  }, { timeoutMs: 60_000, intervalMs: 100, what: 'the node lease to be renewed after SIGCONT' });
  const newPod = (async () => {
    await pollFor(async () => (await h.createPod(busyboxPod('after-stall', busybox))) && true, { timeoutMs: 30_000, intervalMs: 100, what: 'the pod to be created' });
    await h.waitForPod('after-stall', 'Running and Ready', isRunningAndReady, 60_000);
    return since();
  })();
  const deletion = (async () => {
    await h.core.deleteNamespacedPod({ name: 'to-delete', namespace });
    await h.waitForPodGone('to-delete', 60_000);
    await pollFor(async () => (await h.sandboxesOf(uid('to-delete'))).length === 0, { timeoutMs: 60_000, intervalMs: 100, what: 'the sandbox of to-delete to go' });
    return since();
  })();
  const [leaseS, newPodS, deletionS] = await Promise.all([lease, newPod, deletion]);
  const figures = { stall_s: stallMs / 1000, lease_renewed_after_cont_s: leaseS, new_pod_running_after_cont_s: newPodS, deletion_done_after_cont_s: deletionS };
  console.log(JSON.stringify(figures));
  assert.equal(agentExited, undefined, 'the agent is still running');
  assert.ok(leaseS <= boundS, `lease renewed ${leaseS} s after SIGCONT (bound ${boundS} s)\n${h.agentLogTail(20)}`);
  assert.ok(newPodS <= boundS, `new pod Running ${newPodS} s after SIGCONT (bound ${boundS} s)\n${h.agentLogTail(20)}`);
  assert.ok(deletionS <= boundS, `deleted pod removed ${deletionS} s after SIGCONT (bound ${boundS} s)\n${h.agentLogTail(20)}`);
  for (const n of ['steady-a', 'steady-b']) {
    const pod = (await h.waitForPod(n, 'Running and Ready', isRunningAndReady))!;
    assert.equal(pod.status!.containerStatuses![0]!.containerID, before.get(n)!.status!.containerStatuses![0]!.containerID, `${n} keeps its container`);
    assert.equal(pod.status!.containerStatuses![0]!.restartCount, 0);
    assert.deepEqual(await runningContainerIds(h, uid(n)), idsBefore.get(n), `${n}: the same container runs`);
  }
});
