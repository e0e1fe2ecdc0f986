// Pod endings and static pods on real containerd through the agent: `kubectl delete pod` sends
// SIGTERM and waits the grace period before SIGKILL, then the sandbox goes and the pod leaves
// the API; `kubectl logs` reads a container's output through the node; a static pod file runs
// with a mirror pod, and removing the file removes both.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

/** Deletes a pod with the real kubectl and resolves once it is gone from the API; returns the ms it took. */
async function kubectlDeleteAndWait(h: AgentHarness, name: string, seen: V1Pod[]): Promise<number> {
  const started = performance.now();
  const gone = h.waitForPod(name, 'gone from the API', (p) => {
    if (p) seen.push(p);
    return p === undefined;
  }, 60_000);
  let out: string;
  try {
    out = await h.kubectl('delete', 'pod', name, '--wait=false');
  } catch (err) {
    gone.catch(() => {}); // the kubectl failure is the news
    throw err;
  }
  assert.match(out, new RegExp(`pod "${name}" deleted`));
  await gone;
  return performance.now() - started;
}

async function waitForNoSandbox(h: AgentHarness, uid: string): Promise<void> {
  await waitFor(async () => (await h.sandboxesOf(uid)).length === 0, { timeoutMs: 30_000, intervalMs: 200, what: `CRI to hold no sandbox for ${uid}` });
}

test('pods end and static pods come and go through the agent', { timeout: 300_000, concurrency: true }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t);
  const busybox = h.world.images.busybox;

  const subtests = [
    t.test('kubectl delete: a container that handles SIGTERM exits on it, long before its grace period', async () => {
      await h.createPod(busyboxPod('polite', busybox, {
        terminationGracePeriodSeconds: 30,
        containers: [{
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'trap "echo got SIGTERM > /dev/termination-log; exit 0" TERM; while true; do sleep 1; done'],
        }],
      }));
      const pod = (await h.waitForPod('polite', 'Running and Ready', isRunningAndReady))!;
      const seen: V1Pod[] = [];
      const took = await kubectlDeleteAndWait(h, 'polite', seen);
      // A container killed at the end of its 30 s grace would take 30 s; on SIGTERM it takes ~1 s.
      assert.ok(took < 20_000, `the pod was gone after ${Math.round(took)} ms`);
      assert.ok(seen.some((p) => p.metadata?.deletionTimestamp), 'the deletion was graceful (deletionTimestamp seen)');
      // Before the pod left, watchers were told how its container ended, as the kubelet posts it.
      const ended = seen.map((p) => p.status?.containerStatuses?.[0]?.state?.terminated).find((s) => s !== undefined);
      assert.equal(ended?.exitCode, 0, 'the final status shows the container exited 0');
      assert.match(ended?.message ?? '', /got SIGTERM/, 'with its termination message');
      await waitForNoSandbox(h, pod.metadata!.uid!);
    }),

    t.test('kubectl delete: a container that ignores SIGTERM is killed after its grace period', async () => {
      await h.createPod(busyboxPod('stubborn', busybox, {
        terminationGracePeriodSeconds: 3,
        containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'] }],
      }));
      const pod = (await h.waitForPod('stubborn', 'Running and Ready', isRunningAndReady))!;
      const took = await kubectlDeleteAndWait(h, 'stubborn', []);
      assert.ok(took >= 2500, `the grace period was honoured: gone after ${Math.round(took)} ms`);
      assert.ok(took < 20_000, `and then the container was killed: gone after ${Math.round(took)} ms`);
      await waitForNoSandbox(h, pod.metadata!.uid!);
    }),

    t.test('kubectl logs shows what a container wrote (API server → node API → CRI log file)', async () => {
      await h.createPod(busyboxPod('talker', busybox, {
        containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'echo hello from $HOSTNAME; echo second line; sleep 3600'] }],
      }));
      await h.waitForPod('talker', 'Running and Ready', isRunningAndReady);
      let logs = '';
      await waitFor(async () => (logs = await h.kubectl('logs', 'talker')).includes('second line'),
        { timeoutMs: 20_000, intervalMs: 250, what: 'kubectl logs to show both lines' });
      assert.equal(logs, 'hello from talker\nsecond line\n');
      assert.equal(await h.kubectl('logs', 'talker', '--tail=1'), 'second line\n');
    }),

    t.test('a static pod file runs, with a mirror pod on the API server; removing the file removes both', async () => {
      const file = join(h.manifestDir, 'static-web.yaml');
      writeFileSync(file, [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        '  name: static-web',
        '  namespace: default',
        'spec:',
        '  terminationGracePeriodSeconds: 2',
        '  containers:',
        '  - name: app',
        `    image: ${busybox}`,
        '    command: ["sleep", "3600"]',
        '',
      ].join('\n'));
      const mirrorName = `static-web-${h.nodeName}`;
      const mirror = (await h.waitForPod(mirrorName, 'the mirror pod Running and Ready', isRunningAndReady))!;
      const annotations = mirror.metadata?.annotations ?? {};
      assert.equal(annotations['kubernetes.io/config.source'], 'file');
      assert.ok(annotations['kubernetes.io/config.mirror'], 'marked as a mirror pod');
      assert.equal(mirror.metadata?.ownerReferences?.[0]?.kind, 'Node');
      assert.equal(mirror.metadata?.ownerReferences?.[0]?.name, h.nodeName);
      assert.equal(mirror.spec?.nodeName, h.nodeName);

      // The static pod really runs: CRI holds a ready sandbox with the pod's name, under the static pod's UID.
      const { items } = await h.cri.listPodSandbox({ filter: { labelSelector: { 'io.kubernetes.pod.name': mirrorName } } });
      assert.equal(items.length, 1);
      assert.equal(items[0]!.state, 'SANDBOX_READY');
      const staticUid = items[0]!.metadata!.uid;
      assert.equal(annotations['kubernetes.io/config.hash'], staticUid);

      rmSync(file);
      await h.waitForPodGone(mirrorName, 30_000);
      await waitForNoSandbox(h, staticUid);
    }),
  ];
  await Promise.all(subtests);
});
