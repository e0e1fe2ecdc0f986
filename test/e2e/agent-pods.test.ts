// Pods on real containerd through the agent (a child process) and the dev API server: what a
// user sees in pod status for multi-container pods, init containers, exit codes, crash loops,
// image pulls and pull secrets, downward-API env and RuntimeClasses, checked against what CRI
// and runc really run. One world and one agent serve every subtest (their pods are
// independent), and the subtests run concurrently to keep the wall time down.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, ipInSubnet, isRunningAndReady, startAgentHarness, waitingReason } from '../helpers/agent-harness.ts';

const ms = (time: Date | string | undefined) => new Date(time ?? NaN).getTime();

/** Container ids runc runs under one handler's state root. */
/** Container IDs runc knows under one handler's root. `runc list` fails when a container of a
 * parallel subtest vanishes while it reads the state dir, so a failed read is tried again. */
function runcIds(runcRoot: string): string[] {
  if (!existsSync(join(runcRoot, 'k8s.io'))) return [];
  for (let attempt = 1; ; attempt++) {
    try {
      return execFileSync('runc', ['--root', join(runcRoot, 'k8s.io'), 'list', '-q'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n').filter(Boolean);
    } catch (err) {
      if (attempt === 5) throw err;
    }
  }
}

test('pods run on real containerd through the agent', { timeout: 300_000, concurrency: true }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t);
  const busybox = h.world.images.busybox;
  const subnet = h.world.network!.subnet;

  const subtests = [
    t.test('a two-container pod is Running and Ready, with both containers and an IP from the bridge', async () => {
      await h.createPod(busyboxPod('two', busybox, {
        containers: [
          { name: 'first', image: busybox, command: ['sleep', '3600'] },
          { name: 'second', image: busybox, command: ['sleep', '3600'] },
        ],
      }));
      const pod = (await h.waitForPod('two', 'Running and Ready', isRunningAndReady))!;
      const statuses = pod.status?.containerStatuses ?? [];
      assert.deepEqual(statuses.map((s) => s.name).sort(), ['first', 'second']);
      for (const s of statuses) {
        assert.equal(s.ready, true, `${s.name} ready`);
        assert.equal(s.restartCount, 0);
        assert.ok(s.state?.running?.startedAt, `${s.name} running`);
        assert.match(s.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
        assert.equal(s.image, busybox);
      }
      assert.equal(pod.spec?.nodeName, h.nodeName, 'the binder placed the pod on the agent node');
      const ip = pod.status?.podIP ?? '';
      assert.ok(ipInSubnet(ip, subnet), `pod IP ${ip} should be in the world bridge ${subnet}`);

      // What CRI runs agrees with the status: one ready sandbox with that IP, both containers running.
      const sandboxes = await h.sandboxesOf(pod.metadata!.uid!);
      assert.equal(sandboxes.length, 1);
      assert.equal(sandboxes[0]!.state, 'SANDBOX_READY');
      const { status } = await h.cri.podSandboxStatus({ podSandboxId: sandboxes[0]!.id });
      assert.equal(status?.network?.ip, ip);
      const { containers } = await h.cri.listContainers({ filter: { podSandboxId: sandboxes[0]!.id } });
      assert.deepEqual(containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => `containerd://${c.id}`).sort(),
        statuses.map((s) => s.containerID).sort());
    }),

    t.test('init containers run to completion one after another before the app starts', async () => {
      await h.createPod(busyboxPod('inits', busybox, {
        initContainers: [
          { name: 'init-a', image: busybox, command: ['sh', '-c', 'sleep 1'] },
          { name: 'init-b', image: busybox, command: ['sh', '-c', 'sleep 1'] },
        ],
      }));
      const pod = (await h.waitForPod('inits', 'Running and Ready', isRunningAndReady))!;
      const [a, b] = ['init-a', 'init-b'].map((n) => pod.status?.initContainerStatuses?.find((s) => s.name === n)?.state?.terminated);
      assert.ok(a && b, 'both init containers terminated');
      for (const done of [a, b]) {
        assert.equal(done.exitCode, 0);
        assert.equal(done.reason, 'Completed');
      }
      const app = pod.status?.containerStatuses?.[0]?.state?.running;
      assert.ok(app?.startedAt);
      assert.ok(ms(a.finishedAt) <= ms(b.startedAt), 'init-b started after init-a finished');
      assert.ok(ms(b.finishedAt) <= ms(app.startedAt), 'the app started after init-b finished');
      // Each init sleeps 1 s: run in sequence, the app starts at least 2 s after init-a did.
      assert.ok(ms(app.startedAt) - ms(a.startedAt) >= 2000, `app started ${ms(app.startedAt) - ms(a.startedAt)} ms after init-a`);
      assert.equal(pod.status?.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
    }),

    t.test('restartPolicy Never and exit 3: the pod Fails with exit code 3, reason Error', async () => {
      await h.createPod(busyboxPod('exit3', busybox, {
        restartPolicy: 'Never',
        containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'exit 3'] }],
      }));
      const pod = (await h.waitForPod('exit3', 'phase Failed', (p) => p?.status?.phase === 'Failed'))!;
      const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
      assert.equal(terminated?.exitCode, 3);
      assert.equal(terminated?.reason, 'Error');
      assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0);
    }),

    t.test('restartPolicy Always and a crashing container: restarts grow and it waits in CrashLoopBackOff', async () => {
      await h.createPod(busyboxPod('crasher', busybox, {
        containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'exit 1'] }],
      }));
      const pod = (await h.waitForPod('crasher', 'restartCount >= 2 and CrashLoopBackOff',
        (p) => (p?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 && waitingReason(p) === 'CrashLoopBackOff', 90_000))!;
      const status = pod.status!.containerStatuses![0]!;
      assert.equal(status.lastState?.terminated?.exitCode, 1);
      assert.equal(status.ready, false);
      assert.equal(pod.status?.phase, 'Running');
    }),

    t.test('a missing image waits in ErrImagePull, then ImagePullBackOff', async () => {
      const reasons: string[] = [];
      const seen = h.waitForPod('missing', 'ErrImagePull then ImagePullBackOff', (p) => {
        const reason = waitingReason(p);
        if (reason && reasons.at(-1) !== reason) reasons.push(reason);
        return reasons.includes('ErrImagePull') && reason === 'ImagePullBackOff';
      }, 60_000);
      await h.createPod(busyboxPod('missing', `${h.world.registry}/mini-kubelet/no-such-image:1.0`));
      const pod = await seen;
      assert.ok(reasons.indexOf('ErrImagePull') < reasons.indexOf('ImagePullBackOff'), `reasons in order: ${reasons.join(' → ')}`);
      assert.equal(pod?.status?.phase, 'Pending');
      assert.deepEqual(await h.sandboxesOf(pod!.metadata!.uid!).then((s) => s.length), 1, 'the sandbox stays while the image is retried');
    }),

    t.test('a private image runs with its pull secret, and fails to pull without one', async () => {
      await h.createPullSecret('private-registry');
      const image = h.world.images.privateBusybox;
      await h.createPod(busyboxPod('private-with-secret', image, { imagePullSecrets: [{ name: 'private-registry' }] }));
      // Always pull, so the copy the other pod pulled cannot stand in for credentials.
      await h.createPod(busyboxPod('private-without-secret', image, {
        containers: [{ name: 'app', image, imagePullPolicy: 'Always', command: ['sleep', '3600'] }],
      }));
      const [withSecret, withoutSecret] = await Promise.all([
        // Stops at a pull failure too, so a broken pull secret fails fast and says why.
        h.waitForPod('private-with-secret', 'Running and Ready, or an image pull failure',
          (p) => isRunningAndReady(p) || ['ErrImagePull', 'ImagePullBackOff'].includes(waitingReason(p) ?? '')),
        h.waitForPod('private-without-secret', 'ErrImagePull', (p) => waitingReason(p) === 'ErrImagePull'),
      ]);
      assert.ok(isRunningAndReady(withSecret), `with its pull secret the pod runs: ${JSON.stringify(withSecret?.status?.containerStatuses?.[0]?.state)}`);
      assert.equal(withSecret?.status?.containerStatuses?.[0]?.image, image);
      assert.match(withoutSecret?.status?.containerStatuses?.[0]?.state?.waiting?.message ?? '', /401|unauthorized|authoriz/i);
    }),

    t.test('env from fieldRef reaches the container (seen in its termination message)', async () => {
      await h.createPod(busyboxPod('downward', busybox, {
        restartPolicy: 'Never',
        containers: [{
          name: 'app',
          image: busybox,
          command: ['sh', '-c', 'echo $POD_NAME $NODE > /dev/termination-log; exit 0'],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          ],
        }],
      }));
      const pod = (await h.waitForPod('downward', 'phase Succeeded', (p) => p?.status?.phase === 'Succeeded'))!;
      const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
      assert.equal(terminated?.exitCode, 0);
      assert.equal(terminated?.reason, 'Completed');
      assert.equal(terminated?.message?.trim(), `downward ${h.nodeName}`);
    }),

    t.test('a RuntimeClass naming runc-alt runs the sandbox under that handler', async () => {
      await h.createRuntimeClass('alt', 'runc-alt');
      await h.createPod(busyboxPod('alt-class', busybox, { runtimeClassName: 'alt' }));
      const pod = (await h.waitForPod('alt-class', 'Running and Ready', isRunningAndReady))!;
      const [sandbox] = await h.sandboxesOf(pod.metadata!.uid!);
      assert.ok(sandbox);
      assert.equal(sandbox.runtimeHandler, 'runc-alt');
      assert.ok(runcIds(h.world.runtimeRoots['runc-alt']).includes(sandbox.id), 'runc-alt runs the sandbox');
      assert.ok(!runcIds(h.world.runtimeRoots.runc).includes(sandbox.id), 'the default runc does not');
    }),

    t.test('an unknown RuntimeClass: the API server refuses the pod, and kubectl says why', async () => {
      // RuntimeClass admission refuses the pod (403) before any node sees it. What the agent does
      // with a class deleted after its pod was admitted (no sandbox, a FailedCreatePodSandBox
      // event, Pending in ContainerCreating) is test/integration/agent-runtime-class.test.ts.
      const dir = mkdtempSync(join(tmpdir(), 'no-class-'));
      try {
        const file = join(dir, 'pod.json');
        writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...busyboxPod('no-class', busybox, { runtimeClassName: 'no-such-class' }) }));
        await assert.rejects(h.kubectl('apply', '-f', file), (err: Error) => {
          assert.match(err.message, /Error from server \(Forbidden\): error when creating ".*pod\.json": pods "no-class" is forbidden: pod rejected: RuntimeClass "no-such-class" not found/);
          return true;
        });
        await assert.rejects(h.core.readNamespacedPod({ namespace: 'default', name: 'no-class' }), (err: { code?: number }) => err.code === 404);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
  ];
  await Promise.all(subtests);
});
