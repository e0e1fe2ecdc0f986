// What the kubelet does to a pod beyond running its containers, on real containerd through the
// agent, ported in our own words from the upstream node conformance cases (kubelet_etc_hosts,
// pod_admission, sysctl, privileged, and the service variables of expansion/docker_containers):
// the managed /etc/hosts, admission by OS and sysctls, sysctls seen inside the pod, privileged
// containers, and the service environment variables. Each pod prints what it sees and the test reads it
// back through `kubectl logs`. One world and one agent serve every subtest; they run concurrently.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { pollFor } from '../../src/world/wait.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { busyboxPod, isRunningAndReady, namespace, startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

const done = '==done==';
const managedHeader = '# Kubernetes-managed hosts file.';
const boilerplate = `${managedHeader}\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n`
  + 'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';

/** A container that runs `script`, prints the done marker and stays up. */
function reporter(name: string, image: string, script: string, extra: Partial<V1Container> = {}): V1Container {
  return { name, image, command: ['sh', '-c', `${script}\necho ${done}\nsleep 3600`], ...extra };
}

/** What a container printed before the done marker, once the pod runs and the script finished. */
async function printed(h: AgentHarness, name: string, container: string): Promise<string> {
  const out = await pollFor(async () => {
    const logs = await h.kubectl('logs', name, '-c', container);
    return logs.includes(done) && logs;
  }, { timeoutMs: 30_000, intervalMs: 200, what: `${name}/${container} to finish its script` });
  return out.slice(0, out.indexOf(done));
}

async function runAndRead(h: AgentHarness, pod: V1Pod, container: string): Promise<{ pod: V1Pod; out: string }> {
  const name = pod.metadata!.name!;
  await h.createPod(pod);
  const running = (await h.waitForPod(name, 'Running and Ready', isRunningAndReady))!;
  return { pod: running, out: await printed(h, name, container) };
}

/** Waits for a pod the agent rejects at admission; it never gets as far as a sandbox. */
async function rejected(h: AgentHarness, pod: V1Pod): Promise<V1Pod> {
  const name = pod.metadata!.name!;
  await h.createPod(pod);
  const failed = (await h.waitForPod(name, 'phase Failed', (p) => p?.status?.phase === 'Failed'))!;
  // Rejected, not stuck: no sandbox was ever asked for, and no container is waiting.
  assert.deepEqual(await h.sandboxesOf(failed.metadata!.uid!), [], 'no sandbox for a rejected pod');
  assert.ok(!(failed.status?.containerStatuses ?? []).some((c) => c.state?.waiting), 'no container waits in a rejected pod');
  return failed;
}

const capEff = (status: string) => /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];

test('pod features on real containerd: /etc/hosts, admission by OS and sysctls, sysctls, privileged, service env', { timeout: 300_000, concurrency: true }, async (t) => {
  if (!requireE2e(t)) return;
  const h = await startAgentHarness(t, { nodeName: 'features-node', agentArgs: ['--allow-privileged', '--allowed-unsafe-sysctls=kernel.msg*'] });
  const busybox = h.world.images.busybox;

  const subtests = [
    t.test('a pod-network pod gets the managed /etc/hosts with its IP, FQDN and hostAliases; a container mounting its own keeps it', async () => {
      const { pod, out } = await runAndRead(h, busyboxPod('hosts', busybox, {
        hostname: 'web', subdomain: 'front',
        hostAliases: [{ ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] }, { ip: '10.1.2.3', hostnames: ['foo.remote'] }],
        volumes: [{ name: 'node-hosts', hostPath: { path: '/etc/hosts', type: 'File' } }],
        containers: [
          reporter('managed', busybox, 'cat /etc/hosts'),
          reporter('own', busybox, 'cat /etc/hosts', { volumeMounts: [{ name: 'node-hosts', mountPath: '/etc/hosts' }] }),
        ],
      }), 'managed');
      const ip = pod.status?.podIP;
      assert.ok(ip, 'the pod has an IP');
      assert.equal(out, `${boilerplate}${ip}\tweb.front.${namespace}.svc.cluster.local\tweb\n`
        + '\n# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\n');
      const own = await printed(h, 'hosts', 'own');
      assert.equal(own, readFileSync('/etc/hosts', 'utf8'), 'the container that mounts /etc/hosts sees its own mount');
      assert.ok(!own.includes(managedHeader));
    }),

    t.test('a hostNetwork pod gets the node\'s /etc/hosts under the host-network header', async () => {
      const { out } = await runAndRead(h, busyboxPod('hosts-hostnet', busybox, {
        hostNetwork: true,
        containers: [reporter('app', busybox, 'cat /etc/hosts')],
      }), 'app');
      assert.equal(out, `# Kubernetes-managed hosts file (host network).\n${readFileSync('/etc/hosts', 'utf8')}`);
      assert.ok(!out.includes(managedHeader));
    }),

    t.test('a pod whose name is 70 characters runs, its hostname cut to the first 63', async () => {
      const name = `long-name-${'x'.repeat(60)}`;
      assert.equal(name.length, 70);
      const { out } = await runAndRead(h, busyboxPod(name, busybox, { containers: [reporter('app', busybox, 'hostname')] }), 'app');
      assert.equal(out.trim(), name.slice(0, 63));
    }),

    t.test('spec.os windows is rejected at admission with PodOSNotSupported', async () => {
      const pod = await rejected(h, busyboxPod('windows', busybox, { os: { name: 'windows' } }));
      assert.equal(pod.status?.reason, 'PodOSNotSupported');
      assert.equal(pod.status?.message, "Pod was rejected: Failed to admit pod as the OS field doesn't match node OS");
    }),

    t.test('safe sysctls are set in the pod\'s namespaces and seen in /proc/sys', async () => {
      const { out } = await runAndRead(h, busyboxPod('safe-sysctls', busybox, {
        securityContext: { sysctls: [{ name: 'kernel.shm_rmid_forced', value: '1' }, { name: 'net.ipv4.tcp_keepalive_time', value: '123' }, { name: 'net.ipv4.ip_local_port_range', value: '20000 30000' }] },
        containers: [reporter('app', busybox, 'cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/tcp_keepalive_time /proc/sys/net/ipv4/ip_local_port_range')],
      }), 'app');
      assert.deepEqual(out.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')), ['1', '123', '20000 30000']);
    }),

    t.test('a sysctl outside the safe set and --allowed-unsafe-sysctls is rejected with SysctlForbidden', async () => {
      const pod = await rejected(h, busyboxPod('unsafe-sysctl', busybox, { securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } }));
      assert.equal(pod.status?.reason, 'SysctlForbidden');
      assert.equal(pod.status?.message, 'Pod was rejected: forbidden sysctl: "net.core.somaxconn" not allowlisted');
      const events = await h.eventsOf('unsafe-sysctl');
      assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'SysctlForbidden'), 'a SysctlForbidden event');
    }),

    // The API server refuses it first, as kube-apiserver's validation does; the agent's own
    // SysctlForbidden for it (a pod that got past an older API server) is table-tested in
    // test/unit/agent-admission.test.ts.
    t.test('a safe net sysctl on a hostNetwork pod is refused by the API server (422)', async () => {
      const pod = busyboxPod('hostnet-sysctl', busybox, { hostNetwork: true, securityContext: { sysctls: [{ name: 'net.ipv4.tcp_syncookies', value: '1' }] } });
      await assert.rejects(h.createPod(pod), (err: { code?: number; body?: string }) => {
        assert.equal(err.code, 422);
        assert.match(String(err.body), /spec\.securityContext\.sysctls\[0\]\.name: Invalid value: \\"net\.ipv4\.tcp_syncookies\\": may not be specified when 'hostNetwork' is true/);
        return true;
      });
    }),

    t.test('an unsafe sysctl --allowed-unsafe-sysctls names is set and seen in /proc/sys', async () => {
      const name = 'allowed-unsafe';
      await h.createPod(busyboxPod(name, busybox, {
        securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '12345' }] },
        containers: [reporter('app', busybox, 'cat /proc/sys/kernel/msgmax')],
      }));
      const settled = await h.waitForPod(name, 'Running or Failed', (p) => p?.status?.phase === 'Failed' || isRunningAndReady(p));
      assert.equal(settled?.status?.phase, 'Running', `${settled?.status?.reason}: ${settled?.status?.message}`);
      assert.equal((await printed(h, name, 'app')).trim(), '12345');
    }),

    t.test('a privileged container runs (its sandbox privileged) and holds every capability; its neighbour the default set', async () => {
      const { out } = await runAndRead(h, busyboxPod('privileged', busybox, {
        containers: [
          reporter('privileged', busybox, 'grep CapEff /proc/self/status', { securityContext: { privileged: true } }),
          reporter('plain', busybox, 'grep CapEff /proc/self/status'),
        ],
      }), 'privileged');
      // This test runs as root with every capability: a privileged container gets the same set.
      const all = capEff(readFileSync('/proc/self/status', 'utf8'));
      assert.ok(all, 'the test process has a CapEff line');
      assert.equal(capEff(out), all, `privileged CapEff in:\n${out}`);
      const plain = capEff(await printed(h, 'privileged', 'plain'));
      assert.ok(plain && BigInt(`0x${plain}`) < BigInt(`0x${all}`), `an unprivileged container has fewer capabilities (${plain} vs ${all})`);
    }),

    t.test('a container sees its namespace\'s Services as variables; with enableServiceLinks false only the master service', async () => {
      // An explicit clusterIP in the service range: the dev API server may not allocate one.
      await h.core.createNamespacedService({ namespace, body: {
        metadata: { name: 'env-web' },
        spec: { clusterIP: '10.96.33.44', ports: [{ name: 'http', port: 80 }, { name: 'dns-udp', port: 53, protocol: 'UDP' }] },
      } });
      // The master service: the control plane's own when it makes one, else made here as it would be.
      const master = await h.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' }).catch(() =>
        h.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'kubernetes' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } } })
          .catch(() => h.core.readNamespacedService({ namespace: 'default', name: 'kubernetes' })));
      const masterIP = master.spec!.clusterIP!;
      // The whole environment, then the first argument, which the agent expanded: sh's $1 is
      // "$(ENV_WEB_SERVICE_HOST):$(ENV_WEB_SERVICE_PORT_HTTP)" as the runtime got it.
      const dump: V1Container = {
        name: 'app', image: busybox,
        command: ['sh', '-c', `env | sort\necho "arg=$1"\necho ${done}\nsleep 3600`, 'sh', '$(ENV_WEB_SERVICE_HOST):$(ENV_WEB_SERVICE_PORT_HTTP)'],
        env: [{ name: 'URL', value: 'http://$(ENV_WEB_SERVICE_HOST):$(ENV_WEB_SERVICE_PORT)/' }, { name: 'ENV_WEB_PORT', value: 'mine' }],
      };
      const vars = (out: string) => Object.fromEntries(out.trim().split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

      const { out } = await runAndRead(h, busyboxPod('service-env', busybox, { containers: [dump] }), 'app');
      const on = vars(out);
      assert.deepEqual({
        host: on.ENV_WEB_SERVICE_HOST, port: on.ENV_WEB_SERVICE_PORT, http: on.ENV_WEB_SERVICE_PORT_HTTP, dns: on.ENV_WEB_SERVICE_PORT_DNS_UDP,
        tcp: on.ENV_WEB_PORT_80_TCP, tcpProto: on.ENV_WEB_PORT_80_TCP_PROTO, tcpPort: on.ENV_WEB_PORT_80_TCP_PORT, tcpAddr: on.ENV_WEB_PORT_80_TCP_ADDR,
        udp: on.ENV_WEB_PORT_53_UDP, udpProto: on.ENV_WEB_PORT_53_UDP_PROTO,
        own: on.ENV_WEB_PORT, arg: on.arg, url: on.URL,
      }, {
        host: '10.96.33.44', port: '80', http: '80', dns: '53',
        tcp: 'tcp://10.96.33.44:80', tcpProto: 'tcp', tcpPort: '80', tcpAddr: '10.96.33.44',
        udp: 'udp://10.96.33.44:53', udpProto: 'udp',
        own: 'mine', arg: '10.96.33.44:80', url: 'http://10.96.33.44:80/',
      }, out);
      assert.equal(on.KUBERNETES_SERVICE_HOST, masterIP, out);

      const off = vars((await runAndRead(h, busyboxPod('service-env-off', busybox, { enableServiceLinks: false, containers: [dump] }), 'app')).out);
      assert.ok(!Object.keys(off).some((k) => k.startsWith('ENV_WEB_SERVICE')), `no service links: ${JSON.stringify(off)}`);
      assert.equal(off.arg, '$(ENV_WEB_SERVICE_HOST):$(ENV_WEB_SERVICE_PORT_HTTP)', 'an unknown reference stays as written');
      assert.equal(off.KUBERNETES_SERVICE_HOST, masterIP, 'the master service regardless');
      const masterPort = master.spec!.ports![0]!.port;
      assert.equal(off.KUBERNETES_SERVICE_PORT, String(masterPort));
      assert.equal(off.KUBERNETES_PORT, `tcp://${masterIP}:${masterPort}`);
    }),
  ];
  await Promise.all(subtests);
});
