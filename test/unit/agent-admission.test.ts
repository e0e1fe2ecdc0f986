import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Node, V1NodeSelectorRequirement, V1Pod } from '@kubernetes/client-node';
import { admitPod } from '../../src/agent/admission/admit-pod.ts';
import { dottedSysctlName, SAFE_SYSCTLS, sysctlAllowlist, sysctlNamespace } from '../../src/agent/admission/sysctls.ts';

const node: V1Node = {
  metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a', zone: 'z1', gen: '5', disk: 'ssd' } },
  status: { allocatable: { cpu: '1', memory: '1Gi', pods: '3', 'example.com/gpu': '2' } },
};

function pod(name: string, containers: Partial<V1Container>[] = [{}], spec: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: containers.map((c, i) => ({ name: `c${i}`, image: 'busybox', ...c })), ...spec },
  };
}
const requests = (r: Record<string, string>): Partial<V1Container> => ({ resources: { requests: r } });
const affinity = (...terms: Array<{ matchExpressions?: V1NodeSelectorRequirement[]; matchFields?: V1NodeSelectorRequirement[] }>): Partial<V1Pod['spec']> => ({
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
});
const expr = (key: string, operator: string, values?: string[]): V1NodeSelectorRequirement => ({ key, operator, values });
const hostPort = (port: number, protocol = 'TCP', hostIP?: string): Partial<V1Container> => ({ ports: [{ containerPort: 80, hostPort: port, protocol, hostIP }] });

const cases: Array<{ name: string; pod: V1Pod; admitted?: V1Pod[]; reason?: string; message?: string }> = [
  { name: 'a pod without requests', pod: pod('p') },
  { name: 'cpu that fits exactly', pod: pod('p', [requests({ cpu: '500m' }), requests({ cpu: '0.5' })]) },
  { name: 'too much cpu', pod: pod('p', [requests({ cpu: '2' })]), reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 2000, used: 0, capacity: 1000" },
  { name: 'cpu used by admitted pods', pod: pod('p', [requests({ cpu: '600m' })]), admitted: [pod('q', [requests({ cpu: '500m' })])], reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 600, used: 500, capacity: 1000" },
  { name: 'limits stand in for missing requests', pod: pod('p', [{ resources: { limits: { memory: '2Gi' } } }]), reason: 'OutOfmemory' },
  { name: 'memory that fits', pod: pod('p', [requests({ memory: '512Mi' })]), admitted: [pod('q', [requests({ memory: '512Mi' })])] },
  { name: 'too much memory', pod: pod('p', [requests({ memory: '513Mi' })]), admitted: [pod('q', [requests({ memory: '512Mi' })])], reason: 'OutOfmemory', message: `Node didn't have enough resource: memory, requested: ${513 * 2 ** 20}, used: ${512 * 2 ** 20}, capacity: ${2 ** 30}` },
  { name: 'the largest init container counts', pod: pod('p', [requests({ cpu: '100m' })], { initContainers: [{ name: 'i', image: 'b', resources: { requests: { cpu: '1500m' } } }] }), reason: 'OutOfcpu' },
  { name: 'too many pods', pod: pod('p'), admitted: [pod('a'), pod('b'), pod('c')], reason: 'OutOfpods', message: "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3" },
  { name: 'an extended resource the node lacks', pod: pod('p', [requests({ 'example.com/fpga': '1' })]), reason: 'OutOfexample.com/fpga' },
  { name: 'an extended resource that fits', pod: pod('p', [requests({ 'example.com/gpu': '2' })]) },
  { name: 'a matching nodeSelector', pod: pod('p', [{}], { nodeSelector: { zone: 'z1' } }) },
  { name: 'a nodeSelector that does not match', pod: pod('p', [{}], { nodeSelector: { zone: 'z2' } }), reason: 'NodeAffinity' },
  { name: 'affinity In', pod: pod('p', [{}], affinity({ matchExpressions: [expr('zone', 'In', ['z0', 'z1'])] })) },
  { name: 'affinity NotIn', pod: pod('p', [{}], affinity({ matchExpressions: [expr('zone', 'NotIn', ['z1'])] })), reason: 'NodeAffinity' },
  { name: 'affinity NotIn on a missing label', pod: pod('p', [{}], affinity({ matchExpressions: [expr('rack', 'NotIn', ['r1'])] })) },
  { name: 'affinity Exists', pod: pod('p', [{}], affinity({ matchExpressions: [expr('disk', 'Exists')] })) },
  { name: 'affinity DoesNotExist', pod: pod('p', [{}], affinity({ matchExpressions: [expr('disk', 'DoesNotExist')] })), reason: 'NodeAffinity' },
  { name: 'affinity Gt', pod: pod('p', [{}], affinity({ matchExpressions: [expr('gen', 'Gt', ['4'])] })) },
  { name: 'affinity Gt failing', pod: pod('p', [{}], affinity({ matchExpressions: [expr('gen', 'Gt', ['5'])] })), reason: 'NodeAffinity' },
  { name: 'affinity Lt', pod: pod('p', [{}], affinity({ matchExpressions: [expr('gen', 'Lt', ['6'])] })) },
  { name: 'affinity Lt on a non-number', pod: pod('p', [{}], affinity({ matchExpressions: [expr('zone', 'Lt', ['6'])] })), reason: 'NodeAffinity' },
  { name: 'affinity terms are ORed', pod: pod('p', [{}], affinity({ matchExpressions: [expr('zone', 'In', ['z9'])] }, { matchExpressions: [expr('disk', 'In', ['ssd'])] })) },
  { name: 'expressions in a term are ANDed', pod: pod('p', [{}], affinity({ matchExpressions: [expr('zone', 'In', ['z1']), expr('disk', 'In', ['hdd'])] })), reason: 'NodeAffinity' },
  { name: 'matchFields metadata.name', pod: pod('p', [{}], affinity({ matchFields: [expr('metadata.name', 'In', ['node-a'])] })) },
  { name: 'matchFields on another node', pod: pod('p', [{}], affinity({ matchFields: [expr('metadata.name', 'In', ['node-b'])] })), reason: 'NodeAffinity' },
  { name: 'a free host port', pod: pod('p', [hostPort(8080)]), admitted: [pod('q', [hostPort(8081)])] },
  { name: 'a taken host port', pod: pod('p', [hostPort(8080)]), admitted: [pod('q', [hostPort(8080)])], reason: 'NodePorts' },
  { name: 'the same port on another protocol', pod: pod('p', [hostPort(53, 'UDP')]), admitted: [pod('q', [hostPort(53, 'TCP')])] },
  { name: 'the same port on different host IPs', pod: pod('p', [hostPort(80, 'TCP', '10.0.0.1')]), admitted: [pod('q', [hostPort(80, 'TCP', '10.0.0.2')])] },
  { name: 'a specific IP against the wildcard', pod: pod('p', [hostPort(80, 'TCP', '10.0.0.1')]), admitted: [pod('q', [hostPort(80)])], reason: 'NodePorts' },
  // A pod that skipped the API server's decoding (a static pod file) may carry a quantity that
  // does not parse: rejected, with the field and the parser's words, not thrown on at every retry.
  { name: 'an unparseable cpu request', pod: pod('p', [{}, requests({ cpu: 'abc' })]), reason: 'InvalidResourceQuantity',
    message: "spec.containers[1].resources.requests[cpu]: invalid quantity \"abc\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" },
  { name: 'NaN as a memory limit', pod: pod('p', [{ resources: { limits: { memory: 'NaN' } } }]), reason: 'InvalidResourceQuantity' },
  { name: 'full-width digits in an init container', pod: pod('p', [{}], { initContainers: [{ name: 'i', image: 'busybox', ...requests({ cpu: '１００m' }) }] }), reason: 'InvalidResourceQuantity',
    message: "spec.initContainers[0].resources.requests[cpu]: invalid quantity \"１００m\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" },
  { name: 'a list where a quantity belongs', pod: pod('p', [{ resources: { requests: { memory: [1] as unknown as string } } }]), reason: 'InvalidResourceQuantity',
    message: "spec.containers[0].resources.requests[memory]: invalid quantity [1]: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" },
  { name: 'a bad suffix in the pod overhead', pod: pod('p', [{}], { overhead: { cpu: '1iK' } }), reason: 'InvalidResourceQuantity',
    message: "spec.overhead[cpu]: invalid quantity \"1iK\": unable to parse quantity's suffix" },
  { name: 'quantities as numbers and odd but valid forms', pod: pod('p', [requests({ cpu: 0.25 as unknown as string, memory: '1.' }), { resources: { requests: { cpu: '.25' }, limits: { memory: null as unknown as string } } }]) },
];

for (const c of cases) {
  test(`admission: ${c.name}`, () => {
    const result = admitPod(c.pod, node, c.admitted ?? []);
    if (!c.reason) {
      assert.deepEqual(result, { admitted: true });
      return;
    }
    assert.equal(result.admitted, false);
    if (result.admitted) return;
    assert.equal(result.reason, c.reason);
    if (c.message) assert.equal(result.message, c.message);
  });
}

test('admission: a device-plugin resource is left to the device manager, even on a Node that shows none yet', () => {
  const wantsFpga = pod('p', [requests({ 'example.com/fpga': '1' })]);
  const holder = pod('q', [requests({ 'example.com/fpga': '1' })]);
  const byPlugin = (name: string) => name === 'example.com/fpga';
  assert.deepEqual(admitPod(wantsFpga, node, [holder], byPlugin), { admitted: true });
  // Other resources are still judged by the fit check.
  const result = admitPod(pod('r', [requests({ 'example.com/fpga': '1', cpu: '2' })]), node, [], byPlugin);
  assert.equal(result.admitted ? '' : result.reason, 'OutOfcpu');
});

// The OS checks, and sysctls against the node's allowlist, before anything else.
const sysctls = (...names: string[]): Partial<V1Pod['spec']> => ({ securityContext: { sysctls: names.map((name) => ({ name, value: '1' })) } });
const withLabels = (p: V1Pod, labels: Record<string, string>): V1Pod => ({ ...p, metadata: { ...p.metadata, labels } });
const unsafeAllowed = sysctlAllowlist(['kernel.msg*', 'net.core.somaxconn', 'fs.mqueue.*']);

const policyCases: Array<{ name: string; pod: V1Pod; allowlist?: typeof unsafeAllowed; reason?: string; message?: string }> = [
  { name: 'spec.os linux', pod: pod('p', [{}], { os: { name: 'linux' } }) },
  { name: 'spec.os windows', pod: pod('p', [{}], { os: { name: 'windows' } }), reason: 'PodOSNotSupported', message: "Failed to admit pod as the OS field doesn't match node OS" },
  { name: 'a kubernetes.io/os label of another OS', pod: withLabels(pod('p'), { 'kubernetes.io/os': 'windows' }), reason: 'PodOSSelectorNodeLabelDoesNotMatch', message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label" },
  { name: 'a kubernetes.io/os label of linux', pod: withLabels(pod('p'), { 'kubernetes.io/os': 'linux' }) },
  { name: 'the OS is judged before resources', pod: pod('p', [requests({ cpu: '8' })], { os: { name: 'windows' } }), reason: 'PodOSNotSupported' },
  { name: 'every safe sysctl', pod: pod('p', [{}], sysctls(...SAFE_SYSCTLS)) },
  { name: 'a safe sysctl written with slashes', pod: pod('p', [{}], sysctls('net/ipv4/tcp_syncookies')) },
  { name: 'an unsafe sysctl', pod: pod('p', [{}], sysctls('kernel.shm_rmid_forced', 'kernel.msgmax')), reason: 'SysctlForbidden', message: 'forbidden sysctl: "kernel.msgmax" not allowlisted' },
  { name: 'a sysctl that is not namespaced', pod: pod('p', [{}], sysctls('vm.swappiness')), allowlist: unsafeAllowed, reason: 'SysctlForbidden', message: 'forbidden sysctl: "vm.swappiness" not allowlisted' },
  { name: 'an unsafe sysctl the node allows by prefix', pod: pod('p', [{}], sysctls('kernel.msgmax', 'fs.mqueue.msg_max')), allowlist: unsafeAllowed },
  { name: 'an unsafe sysctl the node allows by name', pod: pod('p', [{}], sysctls('net.core.somaxconn')), allowlist: unsafeAllowed },
  { name: 'a name is not a prefix', pod: pod('p', [{}], sysctls('net.core.somaxconn_x')), allowlist: unsafeAllowed, reason: 'SysctlForbidden' },
  { name: 'a net sysctl with hostNetwork', pod: pod('p', [{}], { hostNetwork: true, ...sysctls('net.ipv4.ip_local_port_range') }), reason: 'SysctlForbidden', message: 'forbidden sysctl: "net.ipv4.ip_local_port_range" not allowed with host net enabled' },
  { name: 'an ipc sysctl with hostIPC', pod: pod('p', [{}], { hostIPC: true, ...sysctls('kernel.shm_rmid_forced') }), reason: 'SysctlForbidden', message: 'forbidden sysctl: "kernel.shm_rmid_forced" not allowed with host ipc enabled' },
  { name: 'an allowed ipc prefix with hostIPC', pod: pod('p', [{}], { hostIPC: true, ...sysctls('kernel.msgmax') }), allowlist: unsafeAllowed, reason: 'SysctlForbidden', message: 'forbidden sysctl: "kernel.msgmax" not allowed with host ipc enabled' },
  { name: 'an ipc sysctl with hostNetwork', pod: pod('p', [{}], { hostNetwork: true, ...sysctls('kernel.shm_rmid_forced') }) },
  { name: 'sysctls are judged before the OS', pod: pod('p', [{}], { os: { name: 'windows' }, ...sysctls('kernel.msgmax') }), reason: 'SysctlForbidden' },
];

for (const c of policyCases) {
  test(`admission: ${c.name}`, () => {
    const result = admitPod(c.pod, node, [], undefined, c.allowlist);
    if (!c.reason) {
      assert.deepEqual(result, { admitted: true });
      return;
    }
    assert.equal(result.admitted ? '' : result.reason, c.reason);
    if (c.message) assert.equal(result.admitted ? '' : result.message, c.message);
  });
}

test('sysctl names: slashes swap with dots when the first separator is a slash; namespaces by name and prefix', () => {
  assert.equal(dottedSysctlName('net/ipv4/conf/eth0.100/rp_filter'), 'net.ipv4.conf.eth0/100.rp_filter');
  assert.equal(dottedSysctlName('net.ipv4.conf.eth0/100.rp_filter'), 'net.ipv4.conf.eth0/100.rp_filter');
  assert.equal(dottedSysctlName('kernel'), 'kernel');
  assert.deepEqual(['kernel.sem', 'kernel.shmmax', 'kernel.msgmnb', 'fs.mqueue.queues_max', 'net.core.somaxconn', 'kernel.semx', 'vm.swappiness', 'fs.mqueue'].map(sysctlNamespace),
    ['ipc', 'ipc', 'ipc', 'ipc', 'net', undefined, undefined, undefined]);
});
