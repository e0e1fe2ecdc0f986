// Probes, lifecycle hooks, sidecars and deadlines on real containerd through the agent, as a user
// sees them: the pod's status and events through the API (kubectl), what the containers wrote,
// and what CRI really runs. Files a test toggles live in host directories mounted into the pod
// (hostPath), so the test flips a probe's answer from outside, with nothing timed by sleeping.
// One world and one agent serve every subtest; they run concurrently.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import type { CoreV1Event, V1Container, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { pollFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

/** A host directory the test controls, mounted into the pod at `mountPath`. */
function hostDir(t: { after(fn: () => void): void }, name: string, mountPath: string): { dir: string; volume: V1Volume; mount: V1VolumeMount } {
  const dir = mkdtempSync(join(tmpdir(), `probe-${name}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, volume: { name, hostPath: { path: dir, type: 'Directory' } }, mount: { name, mountPath } };
}

const readyCondition = (p: V1Pod | undefined) => p?.status?.conditions?.find((c) => c.type === 'Ready');
const status = (p: V1Pod | undefined, container = 'app') =>
  [...(p?.status?.containerStatuses ?? []), ...(p?.status?.initContainerStatuses ?? [])].find((s) => s.name === container);
const messages = (events: CoreV1Event[], reason: string) => events.filter((e) => e.reason === reason).map((e) => e.message ?? '');

async function eventually(h: AgentHarness, pod: string, reason: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return pollFor(async () => messages(await h.eventsOf(pod), reason).find((m) => pattern.test(m)), { timeoutMs, intervalMs: 250, what: `${pod}: a ${reason} event matching ${pattern}` });
}

const sh = (script: string) => ['sh', '-c', script];
const probe = (handler: object, over: object = {}) => ({ periodSeconds: 1, failureThreshold: 1, ...handler, ...over });

test('probes, hooks, sidecars and deadlines on real containerd', { timeout: 400_000, concurrency: true }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t, { nodeName: 'probes-node' });
  const busybox = h.world.images.busybox;
  const app = (extra: Partial<V1Container>): V1Container => ({ name: 'app', image: busybox, command: ['sleep', '3600'], ...extra });

  const subtests = [
    t.test('exec liveness: the file removed → the container is killed and restarted, with the kubelet\'s events', async (st) => {
      const ctl = hostDir(st, 'live', '/ctl');
      writeFileSync(join(ctl.dir, 'healthy'), 'ok');
      const pod = await h.createPod(busyboxPod('live-exec', busybox, {
        volumes: [ctl.volume],
        containers: [app({ volumeMounts: [ctl.mount], livenessProbe: probe({ exec: { command: ['cat', '/ctl/healthy'] } }) })],
      }));
      const running = await h.waitForPod('live-exec', 'Running and Ready', isRunningAndReady);
      assert.equal(status(running)?.restartCount, 0);
      rmSync(join(ctl.dir, 'healthy'));
      await eventually(h, 'live-exec', 'Unhealthy', /^Liveness probe failed: cat: can't open '\/ctl\/healthy': No such file or directory/);
      assert.equal(await eventually(h, 'live-exec', 'Killing', /liveness/), 'Container app failed liveness probe, will be restarted');
      writeFileSync(join(ctl.dir, 'healthy'), 'ok'); // the restarted container is healthy again
      const restarted = await h.waitForPod('live-exec', 'restarted once and running', (p) => (status(p)?.restartCount ?? 0) >= 1 && !!status(p)?.state?.running);
      assert.ok(status(restarted)?.lastState?.terminated, 'the killed instance is the lastState');
      const instances = (await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': pod.metadata!.uid! } } })).containers;
      assert.ok(instances.length >= 2, 'CRI holds the killed and the new instance');
    }),

    t.test('httpGet readiness (busybox httpd): a file toggled → Ready False, then True; the container is never restarted', async (st) => {
      const www = hostDir(st, 'www', '/www');
      writeFileSync(join(www.dir, 'healthz'), 'ok');
      await h.createPod(busyboxPod('ready-http', busybox, {
        volumes: [www.volume],
        containers: [app({
          command: ['httpd', '-f', '-p', '8080', '-h', '/www'], ports: [{ name: 'http', containerPort: 8080 }], volumeMounts: [www.mount],
          readinessProbe: probe({ httpGet: { path: '/healthz', port: 'http' } }),
        })],
      }));
      await h.waitForPod('ready-http', 'Ready', isRunningAndReady);
      rmSync(join(www.dir, 'healthz'));
      const unready = await h.waitForPod('ready-http', 'Ready False', (p) => readyCondition(p)?.status === 'False');
      assert.equal(status(unready)?.ready, false);
      assert.equal(readyCondition(unready)?.reason, 'ContainersNotReady');
      assert.equal(unready?.status?.phase, 'Running');
      await eventually(h, 'ready-http', 'Unhealthy', /^Readiness probe failed: HTTP probe failed with statuscode: 404$/);
      writeFileSync(join(www.dir, 'healthz'), 'ok');
      const back = await h.waitForPod('ready-http', 'Ready again', isRunningAndReady);
      assert.equal(status(back)?.restartCount, 0, 'readiness never restarts a container');
    }),

    t.test('tcpSocket: readiness on a listening port passes; liveness on a closed port restarts', async () => {
      await h.createPod(busyboxPod('tcp', busybox, {
        containers: [
          app({ command: ['httpd', '-f', '-p', '8081', '-h', '/'], readinessProbe: probe({ tcpSocket: { port: 8081 } }) }),
          { name: 'closed', image: busybox, command: ['sleep', '3600'], livenessProbe: probe({ tcpSocket: { port: 9999 } }) },
        ],
      }));
      const p = await h.waitForPod('tcp', 'app ready and closed restarted', (x) => !!status(x)?.ready && (status(x, 'closed')?.restartCount ?? 0) >= 1);
      assert.equal(status(p)?.restartCount, 0);
      await eventually(h, 'tcp', 'Unhealthy', /^Liveness probe failed: dial tcp [\d.]+:9999: connect: connection refused$/);
    }),

    t.test('grpc: a real grpc.health.v1 server in the pod; NOT_SERVING → not ready', async (st) => {
      const ctl = hostDir(st, 'grpc', '/ctl');
      await h.createPod(busyboxPod('grpc', busybox, {
        volumes: [ctl.volume],
        containers: [{
          name: 'app', image: h.world.images.grpcHealth, args: ['50051', '/ctl/not-serving'], volumeMounts: [ctl.mount],
          readinessProbe: probe({ grpc: { port: 50051 } }), livenessProbe: probe({ grpc: { port: 50051 } }, { failureThreshold: 1000 }),
        }],
      }));
      await h.waitForPod('grpc', 'Ready', isRunningAndReady);
      writeFileSync(join(ctl.dir, 'not-serving'), '');
      await h.waitForPod('grpc', 'Ready False', (p) => readyCondition(p)?.status === 'False');
      await eventually(h, 'grpc', 'Unhealthy', /^Readiness probe failed: service unhealthy \(responded with "NOT_SERVING"\)$/);
      rmSync(join(ctl.dir, 'not-serving'));
      const back = await h.waitForPod('grpc', 'Ready again', isRunningAndReady);
      assert.equal(status(back)?.restartCount, 0);
    }),

    t.test('a startup probe holds off liveness: not started, not killed, until it passes', async (st) => {
      const ctl = hostDir(st, 'startup', '/ctl');
      await h.createPod(busyboxPod('startup', busybox, {
        volumes: [ctl.volume],
        containers: [app({
          volumeMounts: [ctl.mount],
          startupProbe: probe({ exec: { command: ['cat', '/ctl/started'] } }, { failureThreshold: 120 }),
          // Would kill the container within a second if it ran before startup passed.
          livenessProbe: probe({ exec: { command: ['cat', '/ctl/started'] } }),
        })],
      }));
      const waiting = await h.waitForPod('startup', 'running, not started', (p) => !!status(p)?.state?.running);
      assert.deepEqual([status(waiting)?.started, status(waiting)?.ready], [false, false]);
      // Several liveness periods pass while startup is pending (its failures counted on one event): the container stays.
      await pollFor(async () => (await h.eventsOf('startup')).some((e) => e.reason === 'Unhealthy' && e.message?.startsWith('Startup probe failed: ') && (e.count ?? 0) >= 3),
        { timeoutMs: 30_000, intervalMs: 250, what: 'three startup probe failures' });
      assert.equal(status(await h.waitForPod('startup', 'still there', (p) => !!p))?.restartCount, 0);
      writeFileSync(join(ctl.dir, 'started'), 'yes');
      const started = await h.waitForPod('startup', 'started and ready', (p) => !!status(p)?.started && isRunningAndReady(p));
      assert.equal(status(started)?.restartCount, 0);
      assert.deepEqual(messages(await h.eventsOf('startup'), 'Unhealthy').filter((m) => m.startsWith('Liveness')), [], 'liveness never ran before startup passed');
    }),

    t.test('postStart writes a file the app reads; the container is Running only after the hook', async () => {
      await h.createPod(busyboxPod('post-start', busybox, {
        containers: [app({
          command: sh('while [ ! -f /tmp/hook ]; do sleep 0.1; done; echo "app read: $(cat /tmp/hook)"; sleep 3600'),
          lifecycle: { postStart: { exec: { command: sh('echo written-by-postStart > /tmp/hook') } } },
        })],
      }));
      await h.waitForPod('post-start', 'Running', isRunningAndReady);
      const out = await pollFor(async () => {
        const logs = await h.kubectl('logs', 'post-start');
        return logs.includes('app read:') && logs;
      }, { timeoutMs: 20_000, intervalMs: 200, what: 'the app to print the hook\'s file' });
      assert.equal(out.trim(), 'app read: written-by-postStart');
    }),

    t.test('a failing postStart kills the container with FailedPostStartHook', async () => {
      await h.createPod(busyboxPod('post-start-fails', busybox, {
        containers: [app({ lifecycle: { postStart: { exec: { command: sh('echo no-good; exit 3') } } } })],
      }));
      const msg = await eventually(h, 'post-start-fails', 'FailedPostStartHook', /exited with 3/);
      assert.match(msg, /^Exec lifecycle hook \(\[sh -c echo no-good; exit 3\]\) for Container "app" in Pod "post-start-fails_default\(/);
      assert.equal(await eventually(h, 'post-start-fails', 'Killing', /FailedPostStartHook/), 'FailedPostStartHook');
      const p = await h.waitForPod('post-start-fails', 'never Running with its hook failed', (x) => (status(x)?.restartCount ?? 0) >= 1 || !!status(x)?.state?.waiting);
      assert.ok(!isRunningAndReady(p), 'a container whose postStart failed is never shown Ready');
    }),

    t.test('preStop runs within the grace period on kubectl delete; one longer than the grace period is cut off', async (st) => {
      const out = hostDir(st, 'prestop', '/out');
      await h.createPod(busyboxPod('pre-stop', busybox, {
        terminationGracePeriodSeconds: 20, volumes: [out.volume],
        containers: [app({
          volumeMounts: [out.mount], command: sh('trap "echo app-got-TERM >> /out/log; exit 0" TERM; while true; do sleep 0.2; done'),
          lifecycle: { preStop: { exec: { command: sh('echo preStop-ran >> /out/log') } } },
        })],
      }));
      await h.createPod(busyboxPod('pre-stop-long', busybox, {
        terminationGracePeriodSeconds: 3,
        containers: [app({ lifecycle: { preStop: { exec: { command: ['sleep', '60'] } } } })],
      }));
      await Promise.all([h.waitForPod('pre-stop', 'Running', isRunningAndReady), h.waitForPod('pre-stop-long', 'Running', isRunningAndReady)]);
      const deleted = await h.kubectl('delete', 'pod', 'pre-stop', '--wait=true');
      assert.match(deleted, /pod "pre-stop" deleted/);
      assert.equal(readFileSync(join(out.dir, 'log'), 'utf8'), 'preStop-ran\napp-got-TERM\n', 'preStop ran first, then the container got SIGTERM');

      const started = Date.now();
      await h.kubectl('delete', 'pod', 'pre-stop-long', '--wait=true');
      const tookMs = Date.now() - started;
      console.log(`a 60 s preStop under a 3 s grace period: the pod was gone after ${tookMs} ms`);
      assert.ok(tookMs < 20_000, `the preStop hook was cut off (${tookMs} ms)`);
    }),

    t.test('a sidecar starts before the app and stops after it', async (st) => {
      const shared = hostDir(st, 'order', '/shared');
      const logTerm = (who: string) => sh(`trap "echo ${who}-stop >> /shared/order; exit 0" TERM; echo ${who}-start >> /shared/order; while true; do sleep 0.2; done`);
      await h.createPod(busyboxPod('sidecar', busybox, {
        terminationGracePeriodSeconds: 10, volumes: [shared.volume],
        initContainers: [{
          name: 'proxy', image: busybox, restartPolicy: 'Always', volumeMounts: [shared.mount], command: logTerm('sidecar'),
          startupProbe: probe({ exec: { command: ['grep', 'sidecar-start', '/shared/order'] } }, { failureThreshold: 30 }),
        }],
        containers: [app({ volumeMounts: [shared.mount], command: logTerm('app') })],
      }));
      const running = await h.waitForPod('sidecar', 'Running and Ready', isRunningAndReady);
      assert.deepEqual([status(running, 'proxy')?.started, status(running, 'proxy')?.ready], [true, true]);
      assert.equal(running?.status?.initContainerStatuses?.[0]?.state?.running !== undefined, true, 'the sidecar keeps running beside the app');
      await h.kubectl('delete', 'pod', 'sidecar', '--wait=true');
      assert.equal(readFileSync(join(shared.dir, 'order'), 'utf8'), 'sidecar-start\napp-start\napp-stop\nsidecar-stop\n');
    }),

    t.test('a Job-style pod with a sidecar becomes Succeeded once its app container finishes', async () => {
      await h.createPod(busyboxPod('job-sidecar', busybox, {
        restartPolicy: 'Never',
        initContainers: [{ name: 'logger', image: busybox, restartPolicy: 'Always', command: sh('trap "exit 0" TERM; while true; do sleep 0.2; done') }],
        containers: [app({ command: sh('sleep 1; echo work done') })],
      }));
      const done = await h.waitForPod('job-sidecar', 'Succeeded', (p) => p?.status?.phase === 'Succeeded');
      assert.equal(status(done)?.state?.terminated?.exitCode, 0);
      assert.ok(status(done, 'logger')?.state?.terminated, 'the sidecar was stopped');
      const running = (await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': done!.metadata!.uid! } } })).containers.filter((c) => c.state === 'CONTAINER_RUNNING');
      assert.deepEqual(running, [], 'nothing of the pod runs');
    }),

    t.test('activeDeadlineSeconds: past it the pod is killed and Failed with DeadlineExceeded', async () => {
      const created = await h.createPod(busyboxPod('deadline', busybox, { activeDeadlineSeconds: 4 }));
      const failed = await h.waitForPod('deadline', 'Failed', (p) => p?.status?.phase === 'Failed', 30_000);
      assert.deepEqual([failed?.status?.reason, failed?.status?.message], ['DeadlineExceeded', 'Pod was active on the node longer than the specified deadline']);
      assert.ok(status(failed)?.state?.terminated, 'its container was stopped');
      assert.equal(await eventually(h, 'deadline', 'DeadlineExceeded', /deadline/), 'Pod was active on the node longer than the specified deadline');
      const running = (await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': created.metadata!.uid! } } })).containers.filter((c) => c.state === 'CONTAINER_RUNNING');
      assert.deepEqual(running, []);
    }),

    t.test('readinessGates hold Ready until their condition is True', async () => {
      await h.createPod(busyboxPod('gated', busybox, { readinessGates: [{ conditionType: 'example.com/lb-ready' }] }));
      const held = await h.waitForPod('gated', 'ContainersReady, Ready held by the gate', (p) =>
        p?.status?.conditions?.find((c) => c.type === 'ContainersReady')?.status === 'True' && readyCondition(p)?.reason === 'ReadinessGatesNotReady');
      assert.equal(readyCondition(held)?.message, 'corresponding condition of pod readiness gate "example.com/lb-ready" does not exist.');
      await h.kubectl('patch', 'pod', 'gated', '--subresource=status', '--type=strategic',
        '-p', JSON.stringify({ status: { conditions: [{ type: 'example.com/lb-ready', status: 'True' }] } }));
      const ready = await h.waitForPod('gated', 'Ready', isRunningAndReady);
      assert.equal(ready?.status?.conditions?.find((c) => c.type === 'example.com/lb-ready')?.status, 'True', 'the agent keeps the gate\'s condition');
    }),
  ];
  await Promise.all(subtests);
});
