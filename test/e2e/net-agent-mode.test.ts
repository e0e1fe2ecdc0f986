// Pod networking in agent mode on real containerd: containerd calls the installed delegate
// plugin, the agent's network manager runs bridge + host-local + portmap from its own conflist.
// One world and one agent serve the subtests, which run one after another: the restart test
// kills the agent, and the last one checks that nothing of any pod is left behind.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import test from 'node:test';
import { waitFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { isRunningAndReady } from '../helpers/agent-harness.ts';
import { assertTwoPodsReachEachOther, sh, startNetHarness, webPod, type NetHarness } from '../helpers/net-harness.ts';

const HOST_PORT = 18080;

/** The agent's log lines saying its network manager set up a sandbox's network. */
function networkSetUps(h: NetHarness): Array<{ sandbox: string; ips: string[]; pod: string }> {
  return readFileSync(h.agentLogPath, 'utf8').split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { msg?: string; sandbox?: string; ips?: string[]; pod?: string };
      return entry.msg === 'pod network set up' && entry.sandbox ? [{ sandbox: entry.sandbox, ips: entry.ips ?? [], pod: entry.pod ?? '' }] : [];
    } catch {
      return [];
    }
  });
}

/** What a client on the host sees at 127.0.0.1:port: the body, or the error's code. */
async function getLocal(port: number): Promise<{ body?: string; code?: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/index.html`, { signal: AbortSignal.timeout(5000) });
    return { body: (await res.text()).trim() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { code: cause?.code ?? (err as Error).name };
  }
}

async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const natRulesFor = async (port: number) => (await sh('iptables', '-t', 'nat', '-S')).split('\n').filter((l) => l.includes(`--dport ${port}`));

/** Nothing of any pod is left: no leased IP, no netns of this world, no cached CNI result. */
async function awaitNothingLeft(h: NetHarness, what: string): Promise<void> {
  await waitFor(() => h.allocatedIps().length === 0 && h.worldNetns().length === 0 && h.cachedResults().length === 0, {
    timeoutMs: 30_000, intervalMs: 250, what,
  }).catch((err) => {
    throw new Error(`${(err as Error).message}\nleased IPs: ${h.allocatedIps().join(' ')}\nnetns: ${h.worldNetns().join(' ')}\ncached results: ${h.cachedResults().join(' ')}`);
  });
}

test('agent network mode on containerd through the delegate plugin', { timeout: 600_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startNetHarness(t, 'agent');
  const image = h.world.images.busybox;

  await t.test('two pods get distinct IPs from the agent\'s subnet, set up by its network manager, and reach each other', async () => {
    const pods = await assertTwoPodsReachEachOther(h, ['web-a', 'web-b']);
    const setUps = networkSetUps(h);
    for (const pod of pods) {
      const [sandbox] = await h.sandboxesOf(pod.metadata!.uid!);
      assert.ok(sandbox, `${pod.metadata!.name} has a sandbox`);
      // The network manager ran the chain for this very sandbox and recorded the IP the status shows.
      const setUp = setUps.find((s) => s.sandbox === sandbox.id);
      assert.ok(setUp, `the agent's network manager set up sandbox ${sandbox.id}`);
      assert.deepEqual(setUp.ips, [pod.status!.podIP], 'the status shows the IP the network manager got');
      assert.equal(setUp.pod, `default/${pod.metadata!.name}`);
    }
    await Promise.all(pods.map((p) => h.deletePod(p.metadata!.name!)));
    await Promise.all(pods.map((p) => h.waitForPodGone(p.metadata!.name!)));
    await awaitNothingLeft(h, 'the two pods\' networks to be torn down');
  });

  await t.test(`a pod with hostPort ${HOST_PORT} answers on 127.0.0.1:${HOST_PORT}, and the port is released when it is deleted`, async () => {
    assert.deepEqual(await natRulesFor(HOST_PORT), [], `no DNAT rule for ${HOST_PORT} before the pod (one left by an earlier, killed run?)`);
    await h.createPod(webPod('hostport', image, { containerPort: 8080, hostPort: HOST_PORT }));
    await h.waitForPod('hostport', 'Running and Ready', isRunningAndReady);
    let last: { body?: string; code?: string } = {};
    await waitFor(async () => (last = await getLocal(HOST_PORT)).body === 'hostport', { timeoutMs: 30_000, intervalMs: 250, what: `the pod's page on 127.0.0.1:${HOST_PORT}` })
      .catch((err) => { throw new Error(`${(err as Error).message}; last: ${JSON.stringify(last)}`); });
    assert.ok((await natRulesFor(HOST_PORT)).length > 0, 'portmap added a DNAT rule');

    await h.deletePod('hostport');
    await h.waitForPodGone('hostport');
    await waitFor(async () => (await natRulesFor(HOST_PORT)).length === 0, { timeoutMs: 30_000, intervalMs: 250, what: `the DNAT rules for ${HOST_PORT} to go` });
    assert.equal((await getLocal(HOST_PORT)).code, 'ECONNREFUSED', 'nothing answers on the port any more');
    assert.ok(await canListen(HOST_PORT), 'a new listener can bind the port');
    await awaitNothingLeft(h, 'the hostPort pod\'s network to be torn down');
  });

  await t.test('an agent SIGKILLed between ADD and DEL still tears pods down cleanly', async () => {
    await Promise.all(['keep', 'gone-while-down'].map((n) => h.createPod(webPod(n, image))));
    const [keep, goneWhileDown] = await Promise.all(['keep', 'gone-while-down'].map((n) => h.waitForPod(n, 'Running and Ready', isRunningAndReady)));
    const keepSandboxes = await h.sandboxesOf(keep!.metadata!.uid!);

    await h.killAgent();
    // Deleted while no agent watches: the restarted agent must finish it.
    await h.deletePod('gone-while-down');
    await h.startAgent();
    await h.waitForPodGone('gone-while-down');
    await waitFor(() => !h.allocatedIps().includes(goneWhileDown!.status!.podIP!), { timeoutMs: 30_000, intervalMs: 250, what: 'the deleted pod\'s IP to be released' });

    // The pod that stayed keeps its sandbox and IP, and is still reachable through it.
    const kept = await h.waitForPod('keep', 'Running and Ready', isRunningAndReady);
    assert.equal(kept!.status!.podIP, keep!.status!.podIP);
    assert.deepEqual((await h.sandboxesOf(keep!.metadata!.uid!)).map((s) => s.id), keepSandboxes.map((s) => s.id), 'no second sandbox');
    assert.deepEqual(h.allocatedIps(), [keep!.status!.podIP]);

    await h.deletePod('keep');
    await h.waitForPodGone('keep');
    await awaitNothingLeft(h, 'the kept pod\'s network to be torn down by the restarted agent');
  });

  await t.test('a DEL the runtime makes while the agent is down is finished when the agent comes back', async () => {
    await h.createPod(webPod('orphan', image));
    const pod = (await h.waitForPod('orphan', 'Running and Ready', isRunningAndReady))!;
    const ip = pod.status!.podIP!;
    await h.killAgent();
    await h.deletePod('orphan');
    // The runtime tears the sandbox down on its own (as `crictl rmp -f` would): the delegate
    // cannot reach the agent, answers DEL with success and leaves a note for the agent.
    for (const sandbox of await h.sandboxesOf(pod.metadata!.uid!)) {
      await h.cri.stopPodSandbox({ podSandboxId: sandbox.id });
      await h.cri.removePodSandbox({ podSandboxId: sandbox.id });
    }
    assert.ok(h.allocatedIps().includes(ip), 'the lease stays while the agent is away');
    await h.startAgent();
    await h.waitForPodGone('orphan');
    await awaitNothingLeft(h, 'the restarted agent to finish the DEL it missed');
  });

  await t.test('50 pods created and deleted leave no IP, no netns and no cached result behind', { timeout: 300_000 }, async () => {
    const names = Array.from({ length: 50 }, (_, i) => `churn-${i}`);
    await Promise.all(names.map((n) => h.createPod(webPod(n, image))));
    const running = await Promise.all(names.map((n) => h.waitForPod(n, 'Running with a pod IP', (p) => p?.status?.phase === 'Running' && !!p.status.podIP, 180_000)));
    const ips = new Set(running.map((p) => p!.status!.podIP));
    assert.equal(ips.size, 50, 'every pod has its own IP');
    assert.equal(h.allocatedIps().length, 50, 'host-local leased exactly 50 IPs');
    // What the final check expects to vanish is really there now.
    assert.equal(h.worldNetns().length, 50, 'containerd holds a netns per sandbox');
    assert.equal(h.cachedResults().length, 50, 'the agent cached a result per sandbox');

    await Promise.all(names.map((n) => h.deletePod(n)));
    await Promise.all(names.map((n) => h.waitForPodGone(n, 180_000)));
    await awaitNothingLeft(h, 'every lease, netns and cached result to go');
  });
});
