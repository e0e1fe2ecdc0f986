// A failed network teardown on real containerd: the world's bridge chain gets a last plugin,
// del-gate, which fails every DEL while a gate file exists (so the bridge's and host-local's DEL
// never run: the veth, the IP lease and the netns stay). A pod deleted meanwhile must not be lost
// track of: its sandbox is kept (with its IP and netns), a Warning FailedKillPod event says why,
// the agent retries with backoff (not only at the garbage collector's minute), also after an
// agent crash, and once DEL succeeds everything goes: sandbox, containers, IP, netns, pods/<uid>.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { pino } from 'pino';
import { startTestWorld } from '../../src/world/test-world.ts';
import { pollFor, waitFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, namespace, startAgentHarness, type CleanupScope } from '../helpers/agent-harness.ts';
import { isEmpty, leftoversOf, worldIpLeases, worldNetns, type PodLeftovers } from '../helpers/node-leftovers.ts';

const removedBoundS = 20;

/** A chained CNI plugin: passes ADD's prevResult through, logs every call, fails DEL while `failDelFile` exists. */
function delGatePlugin(): string {
  return `#!${process.execPath}
const fs = require('node:fs');
const conf = JSON.parse(fs.readFileSync(0, 'utf8') || '{}');
const cmd = process.env.CNI_COMMAND;
fs.appendFileSync(conf.logFile, JSON.stringify({ at: Date.now(), cmd, id: process.env.CNI_CONTAINERID, failed: cmd === 'DEL' && fs.existsSync(conf.failDelFile) }) + '\\n');
if (cmd === 'VERSION') {
  process.stdout.write(JSON.stringify({ cniVersion: conf.cniVersion || '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] }));
} else if (cmd === 'ADD') {
  process.stdout.write(JSON.stringify(conf.prevResult));
} else if (cmd === 'DEL' && fs.existsSync(conf.failDelFile)) {
  process.stdout.write(JSON.stringify({ cniVersion: conf.cniVersion, code: 999, msg: 'del-gate: DEL refused by the test' }));
  process.exit(1);
}
`;
}

test('a failed CNI DEL: the sandbox, IP and netns are kept and tracked, retried with backoff (across an agent crash), and removed once DEL works', { timeout: 300_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const quiet = pino({ level: process.env.MINI_KUBELET_E2E_LOG ?? 'warn' }, pino.destination(2));
  // Our own cleanup order: open the gate (so teardown's DELs work), the agent and API, the world.
  const cleanups: Array<() => Promise<void>> = [];
  const scope: CleanupScope = { after: (fn) => void cleanups.push(fn) };
  const world = await startTestWorld({ logger: quiet });
  const failDelFile = join(world.root, 'fail-del');
  const logFile = join(world.root, 'del-gate.log');
  t.after(async () => {
    rmSync(failDelFile, { force: true });
    for (const fn of cleanups.reverse()) await fn().catch((err) => quiet.warn({ err: (err as Error).message }, 'cleanup failed'));
    await world.stop();
  });
  // del-gate last in the chain: it runs first on DEL, and its failure stops the DEL there.
  const pluginPath = join(world.cniBinDir, 'del-gate');
  writeFileSync(pluginPath, delGatePlugin());
  chmodSync(pluginPath, 0o755);
  const conflistPath = join(world.cniConfDir, '10-world-bridge.conflist');
  const conflist = JSON.parse(readFileSync(conflistPath, 'utf8')) as { plugins: object[] };
  conflist.plugins.push({ type: 'del-gate', logFile, failDelFile });
  writeFileSync(conflistPath, JSON.stringify(conflist, null, 2));
  // containerd loads the chain anew on its start: no doubt which chain the pod gets.
  await world.killContainerd();
  await world.restartContainerd();

  // Garbage collection at its default minute: the retries must not wait for it.
  const h = await startAgentHarness(scope, { world, nodeName: 'teardown-e2e' });
  const gateCalls = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '').trim().split('\n').filter(Boolean)
    .map((l) => JSON.parse(l) as { at: number; cmd: string; id: string; failed: boolean });

  await h.createPod(busyboxPod('teardown', h.world.images.busybox));
  const pod = (await h.waitForPod('teardown', 'Running and Ready', isRunningAndReady))!;
  const uid = pod.metadata!.uid!;
  const [sandbox] = await h.sandboxesOf(uid);
  assert.ok(sandbox);
  assert.ok(gateCalls().some((c) => c.cmd === 'ADD' && c.id === sandbox.id), 'the pod was networked through the chain with del-gate');
  const lease = worldIpLeases(h).find((l) => l.sandboxId === sandbox.id);
  assert.ok(lease, 'the sandbox holds an IP lease');
  assert.equal(lease.ip, pod.status!.podIP);
  const before = await leftoversOf(h, uid, [sandbox.id]);
  assert.equal(before.netns.length, 1, 'the sandbox has its netns');
  const netnsName = before.netns[0]!;

  writeFileSync(failDelFile, '');
  await h.core.deleteNamespacedPod({ name: 'teardown', namespace });
  const failedDels = () => gateCalls().filter((c) => c.cmd === 'DEL' && c.id === sandbox.id && c.failed);

  await t.test('the failure is reported: a Warning FailedKillPod event names the CNI error', async () => {
    const event = await pollFor(async () => (await h.eventsOf('teardown')).find((e) => e.reason === 'FailedKillPod'),
      { timeoutMs: 30_000, intervalMs: 250, what: `a FailedKillPod event\n${h.agentLogTail(20)}` });
    assert.equal(event.type, 'Warning');
    assert.match(event.message ?? '', /KillPodSandbox/);
    assert.match(event.message ?? '', /del-gate: DEL refused by the test/);
  });

  let attemptsBeforeCrash = 0;
  await t.test('the agent retries with backoff, keeping the sandbox, its IP and its netns', async () => {
    // The pod worker's own stops come first, in a burst; then the retries. Await failed DELs
    // spread over 10 s: without retries of its own the agent would next try at the garbage
    // collector's minute.
    await waitFor(() => {
      const calls = failedDels();
      return calls.length > 1 && calls.at(-1)!.at - calls[0]!.at >= 10_000;
    }, { timeoutMs: 60_000, intervalMs: 200, what: `failed DELs of ${sandbox.id} spread over 10 s\n${h.agentLogTail(20)}` });
    const calls = failedDels();
    const retries = calls.filter((c) => c.at - calls[0]!.at >= 3000);
    const gaps = retries.slice(1).map((c, i) => c.at - retries[i]!.at);
    // Backoff, no hot loop. Two backoffs retry here: the pod worker's (the pod stays Terminating
    // until its kill works) and the runtime manager's teardown retries; together their spacing
    // is at least a second and grows.
    assert.ok(retries.length >= 2 && retries.length <= 6, `a few retries in the 3-10 s after the first failure, not a loop: ${retries.length}`);
    assert.ok(gaps.every((g) => g >= 1000) && gaps.at(-1)! > gaps[0]!, `retries spaced by a growing backoff: gaps ${gaps.join(', ')} ms`);
    const kept = await leftoversOf(h, uid, [sandbox.id]);
    assert.deepEqual(kept.sandboxes, [sandbox.id], 'the sandbox is kept');
    assert.deepEqual(kept.ips, [lease.ip], 'its IP lease is kept (and tracked)');
    assert.ok(worldNetns(h).includes(netnsName), 'its netns is kept');
    const logged = readFileSync(h.agentLogPath, 'utf8').split('\n').filter((l) => l.includes(sandbox.id) && l.includes('network namespace and IP are kept'));
    assert.ok(logged.length > 0, 'the agent logs that it keeps the sandbox and retries');
    attemptsBeforeCrash = calls.length;
  });

  await t.test('a crashed and restarted agent picks the retries up again', async () => {
    await h.killAgent();
    await h.startAgent();
    await waitFor(() => failedDels().length >= attemptsBeforeCrash + 2, { timeoutMs: 60_000, intervalMs: 200, what: `DEL retries after the restart\n${h.agentLogTail(20)}` });
    assert.deepEqual((await h.sandboxesOf(uid)).map((s) => s.id), [sandbox.id], 'still kept');
  });

  await t.test('once DEL succeeds, everything of the pod goes', async () => {
    rmSync(failDelFile);
    const openedAt = performance.now();
    let left: PodLeftovers | undefined;
    await waitFor(async () => isEmpty((left = await leftoversOf(h, uid, [sandbox.id]))) && !worldNetns(h).includes(netnsName),
      { timeoutMs: 90_000, intervalMs: 200, what: 'nothing of the pod to be left' }).catch((err) => {
      throw new Error(`${(err as Error).message}\nleft: ${JSON.stringify(left)}\n${h.agentLogTail(20)}`);
    });
    const removedS = Math.round((performance.now() - openedAt) / 100) / 10;
    await h.waitForPodGone('teardown', 30_000);
    const calls = failedDels();
    console.log(JSON.stringify({
      failed_dels: calls.length,
      retry_gaps_s: calls.slice(1).map((c, i) => Math.round((c.at - calls[i]!.at) / 100) / 10),
      removed_after_del_works_s: removedS,
    }));
    assert.ok(removedS <= removedBoundS, `everything removed ${removedS} s after DEL works (bound ${removedBoundS} s)`);
    assert.ok(gateCalls().some((c) => c.cmd === 'DEL' && c.id === sandbox.id && !c.failed), 'a DEL went through');
  });
});
