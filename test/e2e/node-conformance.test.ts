// The upstream node conformance cases of test/e2e/common/node ([Conformance] / [NodeConformance]),
// ported in our own words onto real containerd through the agent, with only the world's busybox and
// grpc-health images. Each case checks what a user sees: pod phase and conditions, container
// statuses (state, restartCount, ready, started, termination message), events, `kubectl logs`, and
// what CRI runs. Upstream's agnhost/nginx servers are busybox here: `httpd` (with -vv it logs every
// request, a CGI script records hook calls and answers redirects), `nc -ll -e` for a bare TCP listener.
// Where upstream watches for minutes that nothing happens ("should *not* be restarted ..." for 4
// minutes, "never ready" for 1 minute, 5 restarts), we run probes every second and watch a few
// periods that the test can count: the container logs each probe it answers, or a failing sibling
// container with the same probe settings shows that the probes have been running.
//
// Ported:
//   container_probe.go: readiness with an initial delay; failing readiness never Ready, never
//     restarted; exec liveness restart / no restart; /healthz http liveness restart and monotonically
//     increasing restart count (to 2, not 5); http liveness no restart; tcp liveness no restart;
//     exec liveness with timeout; exec readiness timeout; failing exec liveness that outlives its
//     timeout; local redirect restart; non-local redirect no restart + ProbeWarning; startup probe
//     fails → restart; liveness after startup enables it; ready immediately after startup; probe-level
//     terminationGracePeriodSeconds (liveness and startup); grpc liveness restart / no restart;
//     readiness false while terminating, with liveness off while terminating.
//   lifecycle_hook.go: postStart exec, preStop exec, postStart httpGet, preStop httpGet (against a
//     handler pod), preStop sleep.
//   init_container.go: RestartNever, RestartAlways, failing init on RestartAlways (2 restarts, not 3),
//     failing init on RestartNever.
//   runtime.go: restart policies Always/OnFailure/Never (expected status, then deletable);
//     termination message from file (root, default path; non-root, custom path), FallbackToLogsOnError
//     (failed → log tail; succeeded → empty; succeeded with a file → the file); image pulls: a missing
//     image, pull Always from a registry, private registry without and with a pull secret.
//   pods.go: host IP; submitted, updated (labels) and removed gracefully; activeDeadlineSeconds updated
//     on a running pod.
//   kubelet.go: busybox output in the logs; an always-failing command has a terminated reason and can
//     be deleted; read-only root filesystem.
//   expansion.go: composing env vars; substitution in command; substitution in args.
//   security_context.go: runAsUser 65534 and 0; runAsNonRoot with an explicit non-root user, an
//     explicit root user (refused), no user on a root image (refused); readOnlyRootFilesystem true /
//     false; allowPrivilegeEscalation unset / true / false (read as NoNewPrivs in /proc/self/status,
//     which is what the flag sets; upstream runs a setuid binary we do not have).
//
// Left out:
//   - already covered in other e2e files: the /etc/hosts cases (kubelet_etc_hosts, hostAliases in
//     kubelet.go), sysctls, privileged, pod admission, volumes/subPath expansion, readiness gates, and
//     "*not* restarted by liveness because the startup probe delays it" (agent-probes.test.ts).
//   - needs kubectl exec / attach / port-forward, which do not exist yet: pods.go "remote command
//     execution over websockets"; its "retrieving logs over websockets" is served here by kubectl logs
//     (the log endpoint over plain HTTP).
//   - pods.go "environment variables for services": the agent does not compute service link
//     variables (it watches no Services).
//   - pods.go "delete a collection", "lifecycle of Pods and PodStatus", "patch a pod status": they
//     exercise API server verbs, not the node.
//   - lifecycle_hook.go https hooks: busybox httpd serves no TLS.
//   - security_context.go "runAsNonRoot with an image specified user ID": needs an image whose USER is
//     non-root; the world's busybox runs as root.
//   - the [Feature:SidecarContainers] variants of the probe cases (not conformance).
// One world and one agent serve every subtest; they run concurrently.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { CoreV1Event, V1Container, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { pollFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, namespace, startAgentHarness, waitingReason, type AgentHarness } from '../helpers/agent-harness.ts';

const sh = (script: string) => ['sh', '-c', script];
/** Probes every second, failing on the first failure, unless told otherwise. */
const probe = (handler: object, over: object = {}) => ({ periodSeconds: 1, failureThreshold: 1, ...handler, ...over });
const status = (p: V1Pod | undefined, container = 'app'): V1ContainerStatus | undefined =>
  [...(p?.status?.containerStatuses ?? []), ...(p?.status?.initContainerStatuses ?? [])].find((s) => s.name === container);
const restarts = (p: V1Pod | undefined, container = 'app') => status(p, container)?.restartCount ?? 0;
const condition = (p: V1Pod | undefined, type: string) => p?.status?.conditions?.find((c) => c.type === type);
const of = (container: string) => (e: CoreV1Event) => e.involvedObject?.fieldPath === `spec.containers{${container}}`;
const messages = (events: CoreV1Event[], reason: string, only: (e: CoreV1Event) => boolean = () => true) =>
  events.filter((e) => e.reason === reason && only(e)).map((e) => e.message ?? '');

/** The first event of `reason` (about `container`, if given) matching `pattern`: events reach the API
 * asynchronously, so one may come after the status change it goes with. */
async function eventually(h: AgentHarness, pod: string, reason: string, pattern: RegExp, container?: string): Promise<string> {
  const only = container ? of(container) : () => true;
  return pollFor(async () => messages(await h.eventsOf(pod), reason, only).find((m) => pattern.test(m)),
    { timeoutMs: 45_000, intervalMs: 250, what: `${pod}${container ? `/${container}` : ''}: a ${reason} event matching ${pattern}` });
}

async function logs(h: AgentHarness, pod: string, container = 'app'): Promise<string> {
  return h.kubectl('logs', pod, '-c', container);
}

/** Resolves with the container's log once `pattern` matches it `times` times. */
async function logged(h: AgentHarness, pod: string, container: string, pattern: RegExp, times = 1, timeoutMs = 45_000): Promise<string> {
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  return pollFor(async () => {
    const out = await logs(h, pod, container).catch(() => '');
    return (out.match(global)?.length ?? 0) >= times && out;
  }, { timeoutMs, intervalMs: 250, what: `${pod}/${container}: ${times} × ${pattern} in its log` });
}

const ms = (t: unknown) => new Date(t as string).getTime();
const isPullFailure = (p: V1Pod | undefined, c = 'app') => ['ErrImagePull', 'ImagePullBackOff'].includes(waitingReason(p, c) ?? '');

test('upstream node conformance on real containerd', { timeout: 400_000, concurrency: true }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t, { nodeName: 'conformance-node' });
  const busybox = h.world.images.busybox;
  const app = (extra: Partial<V1Container> = {}): V1Container => ({ name: 'app', image: busybox, command: ['sleep', '3600'], ...extra });
  const once = (name: string, containers: V1Container[], extra: Partial<NonNullable<V1Pod['spec']>> = {}) =>
    busyboxPod(name, busybox, { restartPolicy: 'Never', containers, ...extra });
  /** The pod's containers that CRI holds, by name. */
  const criNames = async (uid: string) =>
    (await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } })).containers.map((c) => c.metadata?.name ?? '');

  const subtests = [
    // ---- container_probe.go ----
    t.test('readiness: Ready only after initialDelaySeconds; failing and timed-out readiness never Ready, never restarted', async () => {
      await h.createPod(busyboxPod('ready-delay', busybox, {
        containers: [app({ command: sh('mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'), readinessProbe: probe({ httpGet: { path: '/', port: 8080 } }, { initialDelaySeconds: 5 }) })],
      }));
      await h.createPod(busyboxPod('ready-never', busybox, {
        containers: [
          app({ readinessProbe: probe({ exec: { command: ['/bin/false'] } }) }),
          app({ name: 'slow', readinessProbe: probe({ exec: { command: sh('sleep 10') } }, { timeoutSeconds: 1 }) }),
        ],
      }));
      const ready = await h.waitForPod('ready-delay', 'Ready', isRunningAndReady);
      const readyAt = ms(condition(ready, 'Ready')?.lastTransitionTime);
      const startedAt = ms(status(ready)?.state?.running?.startedAt);
      assert.ok(readyAt - startedAt >= 5000, `Ready ${readyAt - startedAt} ms after the container started, not before its 5 s initial delay`);
      assert.equal(restarts(ready), 0);

      // Upstream watches one minute; here: three failed probes of each container (periodSeconds 1).
      await pollFor(async () => {
        const ev = await h.eventsOf('ready-never');
        const count = (c: string) => ev.filter((e) => e.reason === 'Unhealthy' && of(c)(e)).reduce((n, e) => n + (e.count ?? 1), 0);
        return count('app') >= 3 && count('slow') >= 3;
      }, { timeoutMs: 45_000, intervalMs: 250, what: 'three readiness failures of each container' });
      const never = await h.waitForPod('ready-never', 'present', (p) => !!p);
      assert.equal(never?.status?.phase, 'Running');
      assert.equal(condition(never, 'Ready')?.status, 'False');
      assert.deepEqual([status(never)?.ready, status(never, 'slow')?.ready], [false, false]);
      assert.deepEqual([restarts(never), restarts(never, 'slow')], [0, 0], 'readiness never restarts a container');
      const ev = await h.eventsOf('ready-never');
      assert.deepEqual(messages(ev, 'Unhealthy', of('slow')), ['Readiness probe failed: command "sh -c sleep 10" timed out']);
      assert.deepEqual(messages(ev, 'Killing'), []);
    }),

    t.test('exec liveness "cat /tmp/health": removed → restarted; kept → not restarted over five probes', async () => {
      // The probe also writes a line to the container's log, so the test can count the probes it ran.
      const health = { exec: { command: sh('cat /tmp/health && echo probed > /proc/1/fd/1') } };
      await h.createPod(busyboxPod('live-exec', busybox, {
        containers: [
          app({ name: 'removed', command: sh('echo ok > /tmp/health; sleep 3; rm -f /tmp/health; sleep 600'), livenessProbe: probe(health, { initialDelaySeconds: 1, timeoutSeconds: 5 }) }),
          app({ name: 'kept', command: sh('echo ok > /tmp/health; sleep 600'), livenessProbe: probe(health, { initialDelaySeconds: 1, timeoutSeconds: 5 }) }),
        ],
      }));
      const restarted = await h.waitForPod('live-exec', 'removed restarted', (p) => restarts(p, 'removed') >= 1);
      assert.equal(status(restarted, 'removed')?.lastState?.terminated?.reason, 'Error', 'the killed instance: SIGKILL after the failed probe (sh ignores SIGTERM as PID 1)');
      await logged(h, 'live-exec', 'kept', /^probed$/m, 5);
      const kept = await h.waitForPod('live-exec', 'present', (p) => !!p);
      assert.equal(restarts(kept, 'kept'), 0);
      assert.match(await eventually(h, 'live-exec', 'Unhealthy', /./, 'removed'), /^Liveness probe failed: cat: can't open '\/tmp\/health': No such file or directory/);
      assert.equal(await eventually(h, 'live-exec', 'Killing', /./, 'removed'), 'Container removed failed liveness probe, will be restarted');
      assert.deepEqual(messages(await h.eventsOf('live-exec'), 'Unhealthy', of('kept')), []);
    }),

    t.test('http liveness: /healthz failing → restarts counted up monotonically; local redirect followed → restarted; non-local redirect → ProbeWarning, not restarted', async () => {
      // Each start serves /healthz and /dir/ for 2 s, then removes them (upstream's agnhost "liveness" fails after 10 s).
      const serve = (port: number) => sh([
        'mkdir -p /www/dir /www/cgi-bin && echo ok > /www/healthz && echo ok > /www/dir/index.html',
        // A CGI that answers with a redirect off the pod, as agnhost's /redirect?loc=http://0.0.0.0/ does.
        `printf '#!/bin/sh\\nprintf "HTTP/1.1 302 Found\\\\r\\\\nLocation: http://0.0.0.0/\\\\r\\\\nContent-Type: text/html\\\\r\\\\n\\\\r\\\\n<a href=\\\\"http://0.0.0.0/\\\\">Found</a>."\\n' > /www/cgi-bin/redirect && chmod +x /www/cgi-bin/redirect`,
        `httpd -p ${port} -h /www`,
        'sleep 2; rm -f /www/healthz /www/dir/index.html; sleep 600',
      ].join('\n'));
      await h.createPod(busyboxPod('live-http', busybox, {
        containers: [
          app({ name: 'healthz', command: serve(8080), livenessProbe: probe({ httpGet: { path: '/healthz', port: 8080 } }, { initialDelaySeconds: 1 }) }),
          // busybox httpd answers /dir with a 302 to /dir/ on the same host: the prober follows it.
          app({ name: 'redirect', command: serve(8081), livenessProbe: probe({ httpGet: { path: '/dir', port: 8081 } }, { initialDelaySeconds: 1 }) }),
          app({ name: 'offsite', command: serve(8082), livenessProbe: probe({ httpGet: { path: '/cgi-bin/redirect', port: 8082 } }, { initialDelaySeconds: 1 }) }),
        ],
      }));
      await h.createPod(busyboxPod('live-http-ok', busybox, {
        containers: [app({ command: sh('mkdir -p /www && echo ok > /www/index.html && exec httpd -f -vv -p 8080 -h /www'), livenessProbe: probe({ httpGet: { path: '/', port: 8080 } }, { initialDelaySeconds: 2, failureThreshold: 5, timeoutSeconds: 5 }) })],
      }));
      const seen: number[] = [];
      const twice = await h.waitForPod('live-http', 'healthz restarted twice', (p) => {
        const n = restarts(p, 'healthz');
        if (p && seen.at(-1) !== n) seen.push(n);
        return n >= 2 && restarts(p, 'redirect') >= 1;
      }, 90_000);
      // Upstream counts to 5 restarts (minutes of back-off); two show the count only goes up.
      assert.deepEqual(seen.filter((n, i) => i > 0 && n < seen[i - 1]!), [], `restart counts only increase: ${seen.join(' → ')}`);
      assert.equal(restarts(twice, 'offsite'), 0, 'a redirect to another host is a success');
      assert.match(await eventually(h, 'live-http', 'ProbeWarning', /redirects/),
        /^Liveness probe warning: Probe terminated redirects, Response body: <a href="http:\/\/0\.0\.0\.0\/">Found<\/a>\.$/);
      assert.equal(await eventually(h, 'live-http', 'Unhealthy', /./, 'redirect'), 'Liveness probe failed: HTTP probe failed with statuscode: 404');
      assert.deepEqual(messages(await h.eventsOf('live-http'), 'Unhealthy', of('offsite')), []);

      await logged(h, 'live-http-ok', 'app', /url:\/$/m, 5);
      const ok = await h.waitForPod('live-http-ok', 'present', (p) => !!p);
      assert.equal(restarts(ok), 0);
      assert.ok(isRunningAndReady(ok));
    }),

    t.test('tcp liveness on a listening port: not restarted over five probes', async () => {
      // A short initial delay (upstream: 15 s) lets the listener come up before the first probe.
      await h.createPod(busyboxPod('live-tcp', busybox, {
        containers: [app({ command: sh("exec nc -ll -p 8080 -e sh -c 'echo accepted >&2'"), livenessProbe: probe({ tcpSocket: { port: 8080 } }, { initialDelaySeconds: 2, timeoutSeconds: 5 }) })],
      }));
      await logged(h, 'live-tcp', 'app', /^accepted$/m, 5);
      const p = await h.waitForPod('live-tcp', 'present', (x) => !!x);
      assert.equal(restarts(p), 0);
      assert.deepEqual(messages(await h.eventsOf('live-tcp'), 'Unhealthy'), []);
    }),

    t.test('exec liveness that times out, or fails while its child runs past the timeout: restarted', async () => {
      await h.createPod(busyboxPod('live-exec-timeout', busybox, {
        containers: [
          app({ name: 'slow', livenessProbe: probe({ exec: { command: sh('sleep 10') } }, { timeoutSeconds: 1 }) }),
          app({ name: 'fails-slowly', livenessProbe: probe({ exec: { command: sh('sleep 10 & exit 1') } }, { timeoutSeconds: 1 }) }),
        ],
      }));
      await h.waitForPod('live-exec-timeout', 'both restarted', (p) => restarts(p, 'slow') >= 1 && restarts(p, 'fails-slowly') >= 1);
      assert.equal(await eventually(h, 'live-exec-timeout', 'Unhealthy', /./, 'slow'), 'Liveness probe failed: command "sh -c sleep 10" timed out');
      assert.equal(await eventually(h, 'live-exec-timeout', 'Killing', /./, 'fails-slowly'), 'Container fails-slowly failed liveness probe, will be restarted');
    }),

    t.test('startup: a failing startup probe restarts; liveness runs once startup passed; readiness right after startup', async () => {
      await h.createPod(busyboxPod('startup-fails', busybox, {
        containers: [app({ startupProbe: probe({ exec: { command: ['/bin/false'] } }, { failureThreshold: 3 }), livenessProbe: probe({ exec: { command: ['/bin/true'] } }) })],
      }));
      await h.createPod(busyboxPod('startup-then-live', busybox, {
        containers: [app({
          command: sh('sleep 2; echo ok > /tmp/startup; sleep 600'),
          startupProbe: probe({ exec: { command: ['cat', '/tmp/startup'] } }, { failureThreshold: 60 }),
          livenessProbe: probe({ exec: { command: ['/bin/false'] } }),
        })],
      }));
      await h.createPod(busyboxPod('startup-then-ready', busybox, {
        containers: [app({
          command: sh('echo ok > /tmp/health; sleep 3; echo ok > /tmp/startup; sleep 600'),
          // A 30 s readiness period: Ready soon after startup means startup success ran it at once.
          readinessProbe: { exec: { command: ['cat', '/tmp/health'] }, periodSeconds: 30 },
          startupProbe: probe({ exec: { command: ['cat', '/tmp/startup'] } }, { failureThreshold: 120 }),
        })],
      }));
      let startedSeenAt = 0;
      let readySeenAt = 0;
      const timeline: string[] = [];
      const [, , ready] = await Promise.all([
        h.waitForPod('startup-fails', 'restarted', (p) => restarts(p) >= 1),
        h.waitForPod('startup-then-live', 'restarted', (p) => restarts(p) >= 1),
        h.waitForPod('startup-then-ready', 'Ready', (p) => {
          const now = Date.now();
          timeline.push(`${now} started=${status(p)?.started} ready=${status(p)?.ready} running=${!!status(p)?.state?.running}`);
          if (!startedSeenAt && status(p)?.started) startedSeenAt = now;
          if (!isRunningAndReady(p)) return false;
          readySeenAt = now;
          return true;
        }),
      ]);
      const readyIn = readySeenAt - startedSeenAt;
      assert.ok(startedSeenAt > 0 && readyIn < 10_000, `Ready ${readyIn} ms after started (readiness period 30 s)\n${timeline.join('\n')}`);
      assert.equal(restarts(ready), 0);
      assert.equal(await eventually(h, 'startup-fails', 'Killing', /startup/), 'Container app failed startup probe, will be restarted');
      assert.equal(await eventually(h, 'startup-then-live', 'Killing', /liveness/), 'Container app failed liveness probe, will be restarted');
      const unhealthy = messages(await h.eventsOf('startup-then-live'), 'Unhealthy');
      assert.ok(unhealthy.some((m) => m.startsWith('Startup probe failed: ')) && unhealthy.some((m) => m.startsWith('Liveness probe failed')), unhealthy.join('\n'));
    }),

    t.test('a probe\'s terminationGracePeriodSeconds replaces the pod\'s 500 s when liveness or startup fails', async () => {
      await h.createPod(busyboxPod('probe-grace', busybox, {
        terminationGracePeriodSeconds: 500,
        containers: [
          // `sh -c sleep` as PID 1 ignores SIGTERM: only the probe's 2 s grace lets the restart come quickly.
          app({ name: 'liveness', command: sh('sleep 1000'), livenessProbe: probe({ httpGet: { path: '/healthz', port: 8080 } }, { initialDelaySeconds: 1, terminationGracePeriodSeconds: 2 }) }),
          app({ name: 'startup', command: sh('sleep 1000'), livenessProbe: probe({ exec: { command: ['/bin/true'] } }),
            startupProbe: probe({ exec: { command: ['cat', '/tmp/startup'] } }, { initialDelaySeconds: 1, terminationGracePeriodSeconds: 2 }) }),
        ],
      }));
      const p = await h.waitForPod('probe-grace', 'both restarted', (x) => restarts(x, 'liveness') >= 1 && restarts(x, 'startup') >= 1, 45_000);
      for (const c of ['liveness', 'startup']) {
        const last = status(p, c)?.lastState?.terminated;
        const ran = ms(last?.finishedAt) - ms(last?.startedAt);
        assert.ok(ran < 30_000, `${c}: the killed instance lived ${ran} ms, far less than the pod's 500 s grace`);
        assert.equal(last?.exitCode, 137, `${c}: SIGKILLed after the probe's grace`);
      }
    }),

    t.test('grpc liveness: a serving port is not restarted; a wrong port is', async () => {
      const grpc = (name: string, port: number, probePort: number): V1Container => ({
        name, image: h.world.images.grpcHealth, args: [String(port), '/tmp/not-serving'],
        livenessProbe: probe({ grpc: { port: probePort } }, { initialDelaySeconds: 3, timeoutSeconds: 5 }),
      });
      await h.createPod(busyboxPod('grpc-live', busybox, { containers: [grpc('serving', 50051, 50051), grpc('wrong-port', 50052, 2333)] }));
      // Same probe settings: by the time the wrong port has failed, the serving one has been probed as often.
      const p = await h.waitForPod('grpc-live', 'wrong-port restarted', (x) => restarts(x, 'wrong-port') >= 1);
      assert.equal(restarts(p, 'serving'), 0);
      assert.match(await eventually(h, 'grpc-live', 'Unhealthy', /./, 'wrong-port'), /^Liveness probe failed: /);
      assert.deepEqual(messages(await h.eventsOf('grpc-live'), 'Unhealthy', of('serving')), []);
    }),

    t.test('while terminating: readiness goes False while the container still runs, and liveness probes stop', async () => {
      await h.createPod(busyboxPod('terminating', busybox, {
        terminationGracePeriodSeconds: 30,
        containers: [app({
          // On SIGTERM both probe files go, and the container stays 8 s longer (eight probe periods).
          command: sh('trap "rm -f /tmp/ready /tmp/live; echo got-TERM; sleep 8; exit 0" TERM; touch /tmp/ready /tmp/live; while true; do sleep 0.2; done'),
          readinessProbe: probe({ exec: { command: ['cat', '/tmp/ready'] } }),
          livenessProbe: probe({ exec: { command: ['cat', '/tmp/live'] } }),
        })],
      }));
      await h.waitForPod('terminating', 'Running and Ready', isRunningAndReady);
      await h.kubectl('delete', 'pod', 'terminating', '--wait=false');
      // The readiness probe keeps running through the grace period: it fails once the file is gone,
      // and the status says so while the container is still shutting down.
      const unready = await h.waitForPod('terminating', 'not Ready while its container still runs', (p) =>
        !!p?.metadata?.deletionTimestamp && condition(p, 'Ready')?.status === 'False' && !!status(p)?.state?.running);
      assert.equal(status(unready)?.ready, false);
      assert.equal(condition(unready, 'ContainersReady')?.status, 'False');
      await h.waitForPodGone('terminating');
      await eventually(h, 'terminating', 'Unhealthy', /^Readiness probe failed: /);
      const ev = await h.eventsOf('terminating');
      assert.deepEqual(messages(ev, 'Unhealthy').filter((m) => m.startsWith('Liveness')), [], 'no liveness probe ran while the pod terminated');
      assert.deepEqual(messages(ev, 'Killing').filter((m) => /liveness/.test(m)), []);
    }),

    // ---- lifecycle_hook.go ----
    t.test('lifecycle hooks reach a handler pod: postStart and preStop by exec and httpGet; preStop sleep', async () => {
      // The handler: busybox httpd with a CGI that logs each call's query string (upstream: agnhost netexec /echo).
      await h.createPod(busyboxPod('hook-handler', busybox, {
        containers: [app({
          command: sh([
            'mkdir -p /www/cgi-bin',
            `printf '#!/bin/sh\\necho "handled $QUERY_STRING" >&2\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nok\\\\n"\\n' > /www/cgi-bin/echo && chmod +x /www/cgi-bin/echo`,
            'exec httpd -f -p 8080 -h /www',
          ].join('\n')),
          readinessProbe: probe({ tcpSocket: { port: 8080 } }),
        })],
      }));
      const handler = await h.waitForPod('hook-handler', 'Ready', isRunningAndReady);
      const ip = handler!.status!.podIP!;
      const call = (msg: string) => ['wget', '-q', '-O', '-', `http://${ip}:8080/cgi-bin/echo?msg=${msg}`];
      const http = (msg: string) => ({ httpGet: { host: ip, port: 8080, path: `/cgi-bin/echo?msg=${msg}` } });
      const handlesTerm = sh('trap "exit 0" TERM; while true; do sleep 0.2; done');
      const hooked = async (name: string, lifecycle: V1Container['lifecycle'], grace = 15) => {
        await h.createPod(busyboxPod(name, busybox, { terminationGracePeriodSeconds: grace, containers: [app({ command: handlesTerm, lifecycle })] }));
        return h.waitForPod(name, 'Running and Ready', isRunningAndReady);
      };
      const handled = (msg: string) => logged(h, 'hook-handler', 'app', new RegExp(`^handled msg=${msg}$`, 'm'));

      await Promise.all([
        (async () => {
          await hooked('hook-poststart-exec', { postStart: { exec: { command: call('poststart-exec') } } });
          await handled('poststart-exec');
        })(),
        (async () => {
          await hooked('hook-poststart-http', { postStart: http('poststart-http') });
          await handled('poststart-http');
        })(),
        ...(['exec', 'http'] as const).map(async (kind) => {
          const name = `hook-prestop-${kind}`;
          await hooked(name, { preStop: kind === 'exec' ? { exec: { command: call(name) } } : http(name) });
          assert.ok(!(await logs(h, 'hook-handler')).includes(`msg=${name}`), 'preStop has not run before the deletion');
          await h.kubectl('delete', 'pod', name, '--wait=true');
          await handled(name);
        }),
        (async () => {
          await hooked('hook-prestop-sleep', { preStop: { sleep: { seconds: 3 } } });
          const started = Date.now();
          await h.kubectl('delete', 'pod', 'hook-prestop-sleep', '--wait=true');
          const took = Date.now() - started;
          assert.ok(took >= 3000 && took < 15_000, `deletion took ${took} ms: the 3 s sleep, then the container's own quick exit on TERM`);
        })(),
      ]);
    }),

    // ---- init_container.go ----
    t.test('init containers: in order on RestartNever and RestartAlways pods; a failing one blocks the app', async () => {
      const init = (name: string, command: string[]): V1Container => ({ name, image: busybox, command });
      await h.createPod(once('init-never', [app({ command: ['/bin/true'] })], { initContainers: [init('init1', ['/bin/true']), init('init2', ['/bin/true'])] }));
      await h.createPod(busyboxPod('init-always', busybox, { initContainers: [init('init1', ['/bin/true']), init('init2', ['/bin/true'])] }));
      await h.createPod(busyboxPod('init-fails-always', busybox, { initContainers: [init('init1', ['/bin/false']), init('init2', ['/bin/true'])] }));
      await h.createPod(once('init-fails-never', [app()], { initContainers: [init('init1', ['/bin/true']), init('init2', ['/bin/false'])] }));

      const [never, always, failsAlways, failsNever] = await Promise.all([
        h.waitForPod('init-never', 'Succeeded', (p) => p?.status?.phase === 'Succeeded'),
        h.waitForPod('init-always', 'Running and Ready', isRunningAndReady),
        // Upstream waits for three restarts; two already show the back-off loop (10 s, then 20 s more).
        h.waitForPod('init-fails-always', 'init1 restarted twice', (p) => restarts(p, 'init1') >= 2, 60_000),
        h.waitForPod('init-fails-never', 'Failed', (p) => p?.status?.phase === 'Failed'),
      ]);
      for (const p of [never, always]) {
        const [i1, i2] = [status(p, 'init1')?.state?.terminated, status(p, 'init2')?.state?.terminated];
        assert.deepEqual([i1?.reason, i1?.exitCode, i2?.reason, i2?.exitCode], ['Completed', 0, 'Completed', 0], p?.metadata?.name);
        assert.ok(ms(i1?.finishedAt) <= ms(i2?.startedAt), 'init2 started after init1 finished');
        assert.equal(condition(p, 'Initialized')?.status, 'True');
      }
      assert.equal(status(never)?.state?.terminated?.reason, 'Completed');

      assert.equal(failsAlways?.status?.phase, 'Pending');
      assert.deepEqual([condition(failsAlways, 'Initialized')?.status, condition(failsAlways, 'Initialized')?.reason], ['False', 'ContainersNotInitialized']);
      assert.deepEqual([status(failsAlways, 'init2')?.state?.waiting?.reason, status(failsAlways, 'app')?.state?.waiting?.reason], ['PodInitializing', 'PodInitializing']);
      assert.deepEqual([...new Set(await criNames(failsAlways!.metadata!.uid!))], ['init1'], 'neither init2 nor the app ever ran');

      assert.deepEqual([status(failsNever, 'init2')?.state?.terminated?.reason, status(failsNever, 'init2')?.state?.terminated?.exitCode], ['Error', 1]);
      assert.equal(condition(failsNever, 'Initialized')?.status, 'False');
      assert.ok(!status(failsNever, 'app')?.state?.running && !status(failsNever, 'app')?.state?.terminated?.startedAt, 'the app never started');
      assert.ok(!(await criNames(failsNever!.metadata!.uid!)).includes('app'));
    }),

    // ---- runtime.go ----
    t.test('restart policies: fails once, succeeds once, then runs: Always / OnFailure / Never end as expected, then deletable', async () => {
      // Each start appends a line to a file in a memory emptyDir: 1st start exits 1, 2nd exits 0, later ones run.
      const script = 'echo hello >> /count/starts; n=$(wc -l < /count/starts); [ "$n" -eq 1 ] && exit 1; [ "$n" -eq 2 ] && exit 0; while true; do sleep 1; done';
      const cases = [
        { name: 'terminate-cmd-rpa', restartPolicy: 'Always', phase: 'Running', restartCount: 2, ready: true, state: 'running' },
        { name: 'terminate-cmd-rpof', restartPolicy: 'OnFailure', phase: 'Succeeded', restartCount: 1, ready: false, state: 'terminated' },
        { name: 'terminate-cmd-rpn', restartPolicy: 'Never', phase: 'Failed', restartCount: 0, ready: false, state: 'terminated' },
      ] as const;
      await Promise.all(cases.map(async (c) => {
        await h.createPod(busyboxPod(c.name, busybox, {
          restartPolicy: c.restartPolicy,
          volumes: [{ name: 'count', emptyDir: { medium: 'Memory' } }],
          containers: [app({ command: sh(script), volumeMounts: [{ name: 'count', mountPath: '/count' }] })],
        }));
        const p = await h.waitForPod(c.name, `${c.phase} with ${c.restartCount} restarts`,
          (x) => x?.status?.phase === c.phase && restarts(x) === c.restartCount && (c.state !== 'running' || !!status(x)?.ready), 60_000);
        assert.equal(status(p)?.ready, c.ready, `${c.name} ready`);
        assert.equal(condition(p, 'Ready')?.status, c.ready ? 'True' : 'False');
        assert.ok(status(p)?.state?.[c.state], `${c.name} is ${c.state}: ${JSON.stringify(status(p)?.state)}`);
        await h.kubectl('delete', 'pod', c.name, '--wait=true');
        await h.waitForPodGone(c.name);
        const left = (await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': p!.metadata!.uid! } } })).containers.filter((x) => x.state === 'CONTAINER_RUNNING');
        assert.deepEqual(left, [], `${c.name}: nothing of it runs`);
      }));
    }),

    t.test('termination messages: from the file (root default path; non-root custom path) and FallbackToLogsOnError', async () => {
      const cases = [
        { name: 'tm-root', args: 'echo -n DONE > /dev/termination-log', path: '/dev/termination-log', user: 0, phase: 'Succeeded', message: 'DONE' },
        { name: 'tm-nonroot', args: 'echo -n DONE > /dev/termination-custom-log', path: '/dev/termination-custom-log', user: 10000, phase: 'Succeeded', message: 'DONE' },
        { name: 'tm-logs-failed', args: 'echo -n DONE; /bin/false', policy: 'FallbackToLogsOnError', phase: 'Failed', message: 'DONE' },
        { name: 'tm-logs-succeeded', args: 'echo -n DONE; /bin/true', policy: 'FallbackToLogsOnError', phase: 'Succeeded', message: '' },
        { name: 'tm-file-succeeded', args: 'echo -n OK > /dev/termination-log; echo DONE; /bin/true', policy: 'FallbackToLogsOnError', phase: 'Succeeded', message: 'OK' },
      ];
      await Promise.all(cases.map(async (c) => {
        await h.createPod(once(c.name, [app({
          command: ['/bin/sh', '-c'], args: [c.args],
          terminationMessagePath: c.path ?? '/dev/termination-log',
          ...(c.policy ? { terminationMessagePolicy: c.policy } : {}),
          ...(c.user !== undefined ? { securityContext: { runAsUser: c.user } } : {}),
        })]));
        const p = await h.waitForPod(c.name, c.phase, (x) => x?.status?.phase === c.phase);
        const term = status(p)?.state?.terminated;
        assert.ok(term, `${c.name}: terminated`);
        assert.equal(term.message ?? '', c.message, `${c.name}: termination message`);
      }));
    }),

    t.test('image pulls: a missing image and a private one without a secret wait in ErrImagePull; pull Always and with a secret run', async () => {
      await h.createPullSecret('conformance-pull');
      const image = (name: string, img: string, extra: Partial<NonNullable<V1Pod['spec']>> = {}) =>
        busyboxPod(name, img, { restartPolicy: 'Never', containers: [app({ image: img, imagePullPolicy: 'Always', command: sh('while true; do sleep 1; done') })], ...extra });
      await h.createPod(image('pull-missing', `${h.world.registry}/invalid/no-such-image:3.1`));
      await h.createPod(image('pull-ok', busybox));
      await h.createPod(image('pull-private-no-secret', h.world.images.privateBusybox));
      await h.createPod(image('pull-private-secret', h.world.images.privateBusybox, { imagePullSecrets: [{ name: 'conformance-pull' }] }));
      const [missing, ok, noSecret, withSecret] = await Promise.all([
        h.waitForPod('pull-missing', 'pull failure', (p) => isPullFailure(p)),
        h.waitForPod('pull-ok', 'Running or a pull failure', (p) => !!status(p)?.state?.running || isPullFailure(p)),
        h.waitForPod('pull-private-no-secret', 'pull failure', (p) => isPullFailure(p)),
        h.waitForPod('pull-private-secret', 'Running or a pull failure', (p) => !!status(p)?.state?.running || isPullFailure(p)),
      ]);
      for (const p of [missing, noSecret]) assert.equal(p?.status?.phase, 'Pending', p?.metadata?.name);
      for (const p of [ok, withSecret]) {
        assert.ok(status(p)?.state?.running, `${p?.metadata?.name}: running, not ${JSON.stringify(status(p)?.state)}`);
        assert.equal(p?.status?.phase, 'Running');
      }
      assert.match(await eventually(h, 'pull-missing', 'Failed', /Failed to pull image/), /no-such-image/);
      assert.match(await eventually(h, 'pull-ok', 'Pulling', /busybox/), /^Pulling image /, 'pull Always pulls');
    }),

    // ---- pods.go ----
    t.test('a pod gets the node\'s host IP; it is updated (labels) in place, then removed gracefully', async () => {
      const node = await h.core.readNode({ name: h.nodeName });
      const nodeIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      await h.createPod(busyboxPod('pod-crud', busybox, {
        terminationGracePeriodSeconds: 30, containers: [app({ command: sh('trap "exit 0" TERM; while true; do sleep 0.2; done') })],
      }));
      const running = await h.waitForPod('pod-crud', 'Running and Ready', isRunningAndReady);
      assert.ok(nodeIP, 'the node reports an InternalIP');
      assert.equal(running?.status?.hostIP, nodeIP);
      assert.deepEqual(running?.status?.hostIPs?.map((a) => a.ip), [nodeIP]);
      assert.ok(running?.status?.podIP);
      await h.kubectl('label', 'pod', 'pod-crud', 'time=updated');
      const labelled = await h.waitForPod('pod-crud', 'labelled', (p) => p?.metadata?.labels?.time === 'updated');
      assert.ok(isRunningAndReady(labelled));
      assert.equal(status(labelled)?.containerID, status(running)?.containerID, 'a label change does not touch the container');
      const seen: string[] = [];
      const gone = h.waitForPod('pod-crud', 'deleted', (p) => {
        if (p?.metadata?.deletionTimestamp && !seen.includes('deletionTimestamp')) seen.push('deletionTimestamp');
        return p === undefined;
      });
      await h.core.deleteNamespacedPod({ name: 'pod-crud', namespace, gracePeriodSeconds: 30 });
      await gone;
      assert.deepEqual(seen, ['deletionTimestamp'], 'a graceful deletion is seen before the pod goes');
      const left = (await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': running!.metadata!.uid! } } })).containers.filter((c) => c.state === 'CONTAINER_RUNNING');
      assert.deepEqual(left, []);
    }),

    t.test('activeDeadlineSeconds set on a running pod fails it with DeadlineExceeded', async () => {
      await h.createPod(busyboxPod('deadline-update', busybox));
      await h.waitForPod('deadline-update', 'Running and Ready', isRunningAndReady);
      await h.kubectl('patch', 'pod', 'deadline-update', '-p', JSON.stringify({ spec: { activeDeadlineSeconds: 5 } }));
      const failed = await h.waitForPod('deadline-update', 'Failed', (p) => p?.status?.phase === 'Failed', 30_000);
      assert.equal(failed?.status?.reason, 'DeadlineExceeded');
    }),

    // ---- kubelet.go ----
    t.test('kubelet: busybox output in the logs; an always-failing command is terminated with a reason and deletable; read-only root fs', async () => {
      await h.createPod(busyboxPod('bb-logs', busybox, { containers: [app({ command: sh("echo 'Hello World'; sleep 240") })] }));
      await h.createPod(busyboxPod('bb-fails', busybox, { containers: [app({ command: ['/bin/false'] })] }));
      await h.createPod(busyboxPod('bb-readonly', busybox, { containers: [app({ command: sh('echo test > /file; sleep 240'), securityContext: { readOnlyRootFilesystem: true } })] }));
      assert.equal(await logged(h, 'bb-logs', 'app', /Hello World/), 'Hello World\n');
      assert.equal(await logged(h, 'bb-readonly', 'app', /can't create/), "sh: can't create /file: Read-only file system\n");
      const fails = await h.waitForPod('bb-fails', 'terminated with a reason', (p) => !!(status(p)?.state?.terminated ?? status(p)?.lastState?.terminated)?.reason);
      const term = status(fails)?.state?.terminated ?? status(fails)?.lastState?.terminated;
      assert.deepEqual([term?.reason, term?.exitCode], ['Error', 1]);
      await h.kubectl('delete', 'pod', 'bb-fails', '--wait=true');
      await h.waitForPodGone('bb-fails');
    }),

    // ---- expansion.go ----
    t.test('env expansion: composed env vars, $(VAR) in command and in args', async () => {
      await h.createPod(once('expansion', [
        app({ name: 'compose', command: ['sh', '-c', 'env | sort'], env: [{ name: 'FOO', value: 'foo-value' }, { name: 'BAR', value: 'bar-value' }, { name: 'FOOBAR', value: '$(FOO);;$(BAR)' }] }),
        app({ name: 'command', command: ['sh', '-c', 'echo command got $(TEST_VAR)'], env: [{ name: 'TEST_VAR', value: 'test-value' }] }),
        app({ name: 'args', command: ['sh', '-c'], args: ['echo args got $(TEST_VAR)'], env: [{ name: 'TEST_VAR', value: 'test-value' }] }),
      ]));
      await h.waitForPod('expansion', 'Succeeded', (p) => p?.status?.phase === 'Succeeded');
      const env = await logs(h, 'expansion', 'compose');
      for (const line of ['FOO=foo-value', 'BAR=bar-value', 'FOOBAR=foo-value;;bar-value']) assert.match(env, new RegExp(`^${line}$`, 'm'));
      assert.equal(await logs(h, 'expansion', 'command'), 'command got test-value\n');
      assert.equal(await logs(h, 'expansion', 'args'), 'args got test-value\n');
    }),

    // ---- security_context.go ----
    t.test('security context: runAsUser, readOnlyRootFilesystem, allowPrivilegeEscalation as the container sees them', async () => {
      const nnp = 'grep NoNewPrivs /proc/self/status';
      await h.createPod(once('security', [
        app({ name: 'uid-65534', command: ['id', '-u'], securityContext: { runAsUser: 65534 } }),
        app({ name: 'uid-0', command: ['id', '-u'], securityContext: { runAsUser: 0 } }),
        app({ name: 'nonroot-1234', command: ['id', '-u'], securityContext: { runAsNonRoot: true, runAsUser: 1234 } }),
        app({ name: 'rootfs-ro', command: sh('touch /file 2>&1 && echo wrote || echo refused'), securityContext: { readOnlyRootFilesystem: true } }),
        app({ name: 'rootfs-rw', command: sh('touch /file 2>&1 && echo wrote || echo refused'), securityContext: { readOnlyRootFilesystem: false } }),
        app({ name: 'escalation-unset', command: sh(nnp), securityContext: { runAsUser: 1000 } }),
        app({ name: 'escalation-true', command: sh(nnp), securityContext: { runAsUser: 1000, allowPrivilegeEscalation: true } }),
        app({ name: 'escalation-false', command: sh(nnp), securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false } }),
      ]));
      const p = await h.waitForPod('security', 'Succeeded or Failed', (x) => x?.status?.phase === 'Succeeded' || x?.status?.phase === 'Failed');
      assert.equal(p?.status?.phase, 'Succeeded', JSON.stringify(p?.status?.containerStatuses?.map((s) => [s.name, s.state])));
      const out = async (c: string) => (await logs(h, 'security', c)).trim();
      assert.deepEqual(await Promise.all(['uid-65534', 'uid-0', 'nonroot-1234'].map(out)), ['65534', '0', '1234']);
      assert.deepEqual(await Promise.all(['rootfs-ro', 'rootfs-rw'].map(out)), ['touch: /file: Read-only file system\nrefused', 'wrote']);
      assert.deepEqual((await Promise.all(['escalation-unset', 'escalation-true', 'escalation-false'].map(out))).map((l) => l.split(/\s+/)[1]), ['0', '0', '1'],
        'no_new_privs is set only with allowPrivilegeEscalation: false');
    }),

    t.test('runAsNonRoot: an explicit root user and a root image are refused with CreateContainerConfigError', async () => {
      await h.createPod(busyboxPod('nonroot-refused', busybox, {
        containers: [
          app({ name: 'explicit-root', securityContext: { runAsNonRoot: true, runAsUser: 0 } }),
          app({ name: 'image-root', securityContext: { runAsNonRoot: true } }),
        ],
      }));
      const p = await h.waitForPod('nonroot-refused', 'both refused', (x) =>
        waitingReason(x, 'explicit-root') === 'CreateContainerConfigError' && waitingReason(x, 'image-root') === 'CreateContainerConfigError');
      assert.match(status(p, 'explicit-root')?.state?.waiting?.message ?? '', /^container's runAsUser breaks non-root policy \(pod: "nonroot-refused_default\(.*\)", container: explicit-root\)$/);
      assert.match(status(p, 'image-root')?.state?.waiting?.message ?? '', /^container has runAsNonRoot and image will run as root \(pod: "nonroot-refused_default\(.*\)", container: image-root\)$/);
      assert.deepEqual(await criNames(p!.metadata!.uid!), [], 'neither container was created');
      await eventually(h, 'nonroot-refused', 'Failed', /^Error: container's runAsUser breaks non-root policy/);
    }),
  ];
  await Promise.all(subtests);
});
