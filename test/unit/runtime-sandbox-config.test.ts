// PodSandboxConfig from a pod: what RunPodSandbox receives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { buildSandboxConfig } from '../../src/cri/runtime-manager/sandbox-config.ts';
import { parseResolvConf, podDnsConfig } from '../../src/cri/runtime-manager/dns.ts';

const node = parseResolvConf('# generated\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example example\noptions ndots:2 edns0\n');
const opts = { podLogsDir: '/var/log/pods', resolvConf: node };

function pod(spec: V1Pod['spec'] = { containers: [] }, meta: V1Pod['metadata'] = {}): V1Pod {
  return { metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'x' }, ...meta }, spec };
}

test('identity, attempt, hostname and the pod log directory', () => {
  const c = buildSandboxConfig(pod(), 2, opts);
  assert.deepEqual(c.metadata, { name: 'web', namespace: 'shop', uid: 'u-1', attempt: 2 });
  assert.equal(c.hostname, 'web');
  assert.equal(c.logDirectory, '/var/log/pods/shop_web_u-1');
  assert.equal(buildSandboxConfig(pod({ containers: [], hostname: 'custom', subdomain: 'sub' }), 0, opts).hostname, 'custom');
});

test('a hostname over 63 characters is cut to 63, without trailing \'-\' or \'.\' (runc refuses longer ones)', () => {
  const name70 = 'a'.repeat(60) + '-b.c' + 'd'.repeat(6);
  assert.equal(name70.length, 70);
  assert.equal(buildSandboxConfig(pod(undefined, { name: name70 }), 0, opts).hostname, 'a'.repeat(60) + '-b');
  // Cut at 63 lands on '-' and '.': both are trimmed.
  const dashes = 'x'.repeat(61) + '-.' + 'y'.repeat(10);
  assert.equal(buildSandboxConfig(pod({ containers: [], hostname: dashes }), 0, opts).hostname, 'x'.repeat(61));
  assert.equal(buildSandboxConfig(pod({ containers: [], hostname: 'h'.repeat(63) }), 0, opts).hostname, 'h'.repeat(63));
  // An empty spec.hostname falls back to the pod name, as the kubelet does.
  assert.equal(buildSandboxConfig(pod({ containers: [], hostname: '' }), 0, opts).hostname, 'web');
});

test('labels carry the pod identity on top of its own labels; annotations are the pod\'s', () => {
  const c = buildSandboxConfig(pod({ containers: [] }, { labels: { app: 'web', 'io.kubernetes.pod.uid': 'forged' } }), 0, opts);
  assert.deepEqual(c.labels, { app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u-1' });
  assert.deepEqual(c.annotations, { note: 'x' });
});

test('hostPorts become port mappings', () => {
  const c = buildSandboxConfig(pod({ containers: [{ name: 'a', ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '127.0.0.1' }, { containerPort: 9090 }] }] }), 0, opts);
  assert.deepEqual(c.portMappings, [
    { protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' },
    { protocol: 'UDP', containerPort: 53, hostPort: 5353, hostIp: '127.0.0.1' },
  ]);
});

test('namespace options follow hostNetwork, hostPID, hostIPC and shareProcessNamespace', () => {
  const ns = (spec: Partial<NonNullable<V1Pod['spec']>>) => buildSandboxConfig(pod({ containers: [], ...spec }), 0, opts).linux?.securityContext?.namespaceOptions;
  assert.deepEqual(ns({}), { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
  assert.deepEqual(ns({ hostNetwork: true, hostPID: true, hostIPC: true }), { network: 'NODE', pid: 'NODE', ipc: 'NODE' });
  assert.deepEqual(ns({ shareProcessNamespace: true }), { network: 'POD', pid: 'POD', ipc: 'POD' });
  assert.equal(buildSandboxConfig(pod({ containers: [], hostNetwork: true }), 0, opts).hostname, '');
});

test('resolv.conf parsing: servers in order, last search wins, options collected', () => {
  assert.deepEqual(parseResolvConf('nameserver 1.1.1.1\nsearch a\nsearch b c ; comment\noptions rotate\nnameserver 8.8.8.8'), {
    servers: ['1.1.1.1', '8.8.8.8'], searches: ['b', 'c'], options: ['rotate'],
  });
});

const dnsRows: Array<{ name: string; spec: Partial<NonNullable<V1Pod['spec']>>; want: object }> = [
  { name: 'ClusterFirst without cluster DNS uses the node\'s', spec: {}, want: { servers: ['10.0.0.2', '10.0.0.3'], searches: ['corp.example', 'example'], options: ['ndots:2', 'edns0'] } },
  { name: 'Default uses the node\'s', spec: { dnsPolicy: 'Default' }, want: { servers: ['10.0.0.2', '10.0.0.3'], searches: ['corp.example', 'example'], options: ['ndots:2', 'edns0'] } },
  { name: 'None uses only the pod\'s dnsConfig', spec: { dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'], searches: ['svc.local'], options: [{ name: 'ndots', value: '5' }] } }, want: { servers: ['9.9.9.9'], searches: ['svc.local'], options: ['ndots:5'] } },
  { name: 'dnsConfig merges on top of Default (option values replaced)', spec: { dnsPolicy: 'Default', dnsConfig: { nameservers: ['9.9.9.9'], searches: ['svc.local'], options: [{ name: 'ndots', value: '1' }, { name: 'single-request' }] } }, want: { servers: ['10.0.0.2', '10.0.0.3', '9.9.9.9'], searches: ['svc.local', 'corp.example', 'example'], options: ['ndots:1', 'edns0', 'single-request'] } },
];
for (const row of dnsRows) {
  test(`dns: ${row.name}`, () => assert.deepEqual(podDnsConfig(pod({ containers: [], ...row.spec }), node), row.want));
}

test('the sandbox is privileged when any init, app or ephemeral container is', () => {
  const privileged = { privileged: true };
  const sandboxPrivileged = (spec: Partial<NonNullable<V1Pod['spec']>>) => buildSandboxConfig(pod({ containers: [{ name: 'a' }], ...spec }), 0, opts).linux?.securityContext?.privileged;
  assert.equal(sandboxPrivileged({}), false);
  assert.equal(sandboxPrivileged({ containers: [{ name: 'a' }, { name: 'b', securityContext: privileged }] }), true);
  assert.equal(sandboxPrivileged({ initContainers: [{ name: 'i', securityContext: privileged }] }), true);
  assert.equal(sandboxPrivileged({ ephemeralContainers: [{ name: 'e', securityContext: privileged }] }), true);
  assert.equal(sandboxPrivileged({ containers: [{ name: 'a', securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN'] } } }] }), false);
});

test('the pod\'s sysctls reach the sandbox by name', () => {
  const c = buildSandboxConfig(pod({ containers: [], securityContext: { sysctls: [{ name: 'kernel.shm_rmid_forced', value: '1' }, { name: 'net.ipv4.ip_local_port_range', value: '1024 2048' }] } }), 0, opts);
  assert.deepEqual(c.linux?.sysctls, { 'kernel.shm_rmid_forced': '1', 'net.ipv4.ip_local_port_range': '1024 2048' });
});
