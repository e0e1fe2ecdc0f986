// ContainerConfig from a pod's container: what CreateContainer receives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ConfigMap, V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import { buildContainerConfig, type ContainerConfigInput } from '../../src/cri/runtime-manager/container-config.ts';
import { ContainerConfigError } from '../../src/cri/runtime-manager/container-env.ts';
import { expandVars } from '../../src/cri/runtime-manager/env-expansion.ts';
import { containerResources, milliCpuToQuota, milliCpuToShares } from '../../src/cri/runtime-manager/resources.ts';
import { containerSpecHash } from '../../src/cri/runtime-manager/labels.ts';

const secret: V1Secret = { data: { token: Buffer.from('s3cret').toString('base64') } };
const configMap: V1ConfigMap = { data: { mode: 'fast', LEVEL: 'debug' } };

function pod(container: V1Container, spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return { metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { tier: 'front' }, annotations: { owner: 'team-a' } }, spec: { containers: [container], nodeName: 'node-1', serviceAccountName: 'sa', ...spec } };
}

function input(p: V1Pod, overrides: Partial<ContainerConfigInput> = {}): ContainerConfigInput {
  return {
    pod: p, container: p.spec!.containers[0]!, attempt: 0, imageRef: 'sha256:abc', imageUser: { username: '' },
    terminationMessageHostPath: '/root/pods/u-1/containers/a/0a1b2c3d', devices: undefined, allowPrivileged: false,
    env: {
      nodeName: 'node-1', hostIP: '192.168.0.10', podIPs: ['10.88.0.5'],
      getSecret: async (ns, name) => (ns === 'shop' && name === 'creds' ? secret : undefined),
      getConfigMap: async (ns, name) => (ns === 'shop' && name === 'settings' ? configMap : undefined),
    },
    ...overrides,
  };
}

const envOf = async (c: V1Container, spec: Partial<NonNullable<V1Pod['spec']>> = {}) =>
  Object.fromEntries(((await buildContainerConfig(input(pod(c, spec)))).envs ?? []).map(e => [e.key, e.value]));

test('identity, image, command, log path, termination-message mount, labels and annotations', async () => {
  const c: V1Container = { name: 'a', image: 'busybox:1.36', command: ['sh'], args: ['-c', 'echo hi'], workingDir: '/w', terminationMessagePath: '/tmp/msg', ports: [{ containerPort: 80 }] };
  const config = await buildContainerConfig(input(pod(c), { attempt: 3 }));
  assert.deepEqual(config.metadata, { name: 'a', attempt: 3 });
  assert.deepEqual(config.image, { image: 'sha256:abc', userSpecifiedImage: 'busybox:1.36' });
  assert.deepEqual([config.command, config.args, config.workingDir], [['sh'], ['-c', 'echo hi'], '/w']);
  assert.equal(config.logPath, 'a/3.log');
  assert.deepEqual(config.mounts, [{ containerPath: '/tmp/msg', hostPath: '/root/pods/u-1/containers/a/0a1b2c3d', readonly: false }]);
  assert.deepEqual(config.labels, { 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u-1', 'io.kubernetes.container.name': 'a' });
  assert.equal(config.annotations!['io.kubernetes.container.hash'], containerSpecHash(c));
  assert.equal(config.annotations!['io.kubernetes.container.restartCount'], '3');
  assert.equal(config.annotations!['io.kubernetes.container.terminationMessagePath'], '/tmp/msg');
  assert.equal(config.annotations!['io.kubernetes.container.terminationMessagePolicy'], 'File');
  assert.equal(config.annotations!['io.kubernetes.pod.terminationGracePeriod'], '30');
  assert.deepEqual(JSON.parse(config.annotations!['io.kubernetes.container.ports']!), [{ containerPort: 80 }]);
});

test('env: values, pod fields, ConfigMap and Secret keys, envFrom with prefix', async () => {
  const env = await envOf({
    name: 'a',
    envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
    env: [
      { name: 'PLAIN', value: 'v' },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
      { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
      { name: 'OWNER', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['owner']" } } },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
      { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'absent', key: 'x', optional: true } } },
    ],
  });
  assert.deepEqual(env, {
    CFG_mode: 'fast', CFG_LEVEL: 'debug', PLAIN: 'v', POD: 'web', NS: 'shop', UID: 'u-1', TIER: 'front', OWNER: 'team-a', NODE: 'node-1', SA: 'sa',
    POD_IP: '10.88.0.5', HOST_IP: '192.168.0.10', MODE: 'fast', TOKEN: 's3cret',
  });
});

test('env: $(VAR) expansion uses earlier variables only; $$ escapes; command and args expand too', async () => {
  const c: V1Container = {
    name: 'a', command: ['echo', '$(GREETING)'], args: ['$(MISSING)', '$$(GREETING)'],
    env: [{ name: 'NAME', value: 'world' }, { name: 'GREETING', value: 'hello $(NAME) $(LATER)' }, { name: 'LATER', value: 'x' }],
  };
  const config = await buildContainerConfig(input(pod(c)));
  assert.equal(config.envs!.find(e => e.key === 'GREETING')!.value, 'hello world $(LATER)');
  assert.deepEqual(config.command, ['echo', 'hello world $(LATER)']);
  assert.deepEqual(config.args, ['$(MISSING)', '$(GREETING)']);
});

test('expandVars edge cases', () => {
  const lookup = (n: string) => ({ A: '1' } as Record<string, string>)[n];
  assert.equal(expandVars('$(A)$(A)', lookup), '11');
  assert.equal(expandVars('cost: $5 and $$ and $(A', lookup), 'cost: $5 and $ and $(A');
  assert.equal(expandVars('trailing $', lookup), 'trailing $');
});

test('env: a missing secret, key or ConfigMap is a CreateContainerConfigError with the kubelet wording', async () => {
  const rows: Array<[V1Container['env'], string]> = [
    [[{ name: 'X', valueFrom: { secretKeyRef: { name: 'absent', key: 'k' } } }], 'secret "absent" not found'],
    [[{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }], "couldn't find key nope in Secret shop/creds"],
    [[{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }], 'configmap "gone" not found'],
    [[{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope' } } }], "couldn't find key nope in ConfigMap shop/settings"],
  ];
  for (const [env, message] of rows) {
    await assert.rejects(buildContainerConfig(input(pod({ name: 'a', env }))), (err: unknown) => err instanceof ContainerConfigError && err.message === message && err.reason === 'CreateContainerConfigError');
  }
});

test('resources: cpu shares and quota, memory limit, OOM score by QoS', () => {
  assert.equal(milliCpuToShares(0), 2);
  assert.equal(milliCpuToShares(1), 2);
  assert.equal(milliCpuToShares(250), 256);
  assert.equal(milliCpuToShares(2000), 2048);
  assert.equal(milliCpuToQuota(500), 50_000);
  assert.equal(milliCpuToQuota(5), 1000);
  const GiB = 2 ** 30;
  const guaranteed = { name: 'a', resources: { limits: { cpu: '500m', memory: '256Mi' } } };
  assert.deepEqual(containerResources(pod(guaranteed), guaranteed, 8 * GiB), { cpuShares: 512, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitInBytes: 256 * 2 ** 20, oomScoreAdj: -997 });
  const bestEffort = { name: 'a' };
  assert.deepEqual(containerResources(pod(bestEffort), bestEffort, 8 * GiB), { cpuShares: 2, cpuPeriod: 0, cpuQuota: 0, memoryLimitInBytes: 0, oomScoreAdj: 1000 });
  const burstable = { name: 'a', resources: { requests: { cpu: '100m', memory: '2Gi' } } };
  assert.deepEqual(containerResources(pod(burstable), burstable, 8 * GiB), { cpuShares: 102, cpuPeriod: 0, cpuQuota: 0, memoryLimitInBytes: 0, oomScoreAdj: 750 });
  const huge = { name: 'a', resources: { requests: { memory: '8Gi' } } };
  assert.equal(containerResources(pod(huge), huge, 8 * GiB).oomScoreAdj, 3);
  const tiny = { name: 'a', resources: { requests: { cpu: '1m' } } };
  assert.equal(containerResources(pod(tiny), tiny, 8 * GiB).oomScoreAdj, 999);
});

test('security: user, group, capabilities, read-only root, no_new_privs, masked paths', async () => {
  const c: V1Container = { name: 'a', securityContext: { runAsUser: 1000, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false } };
  const sc = (await buildContainerConfig(input(pod(c, { securityContext: { runAsGroup: 3000, supplementalGroups: [4000] } })))).linux!.securityContext!;
  assert.deepEqual(sc.runAsUser, { value: 1000 });
  assert.deepEqual(sc.runAsGroup, { value: 3000 });
  assert.deepEqual(sc.supplementalGroups, [4000]);
  assert.deepEqual(sc.capabilities, { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] });
  assert.equal(sc.readonlyRootfs, true);
  assert.equal(sc.noNewPrivs, true);
  assert.equal(sc.privileged, false);
  assert.ok(sc.maskedPaths!.includes('/proc/kcore'));
  assert.ok(sc.readonlyPaths!.includes('/proc/sys'));
});

test('security: privileged needs allowPrivileged', async () => {
  const c: V1Container = { name: 'a', securityContext: { privileged: true } };
  await assert.rejects(buildContainerConfig(input(pod(c))), { reason: 'CreateContainerConfigError', message: 'pod with UID "u-1" specified privileged container, but is disallowed' });
  const sc = (await buildContainerConfig(input(pod(c), { allowPrivileged: true }))).linux!.securityContext!;
  assert.equal(sc.privileged, true);
  assert.deepEqual(sc.maskedPaths, []);
});

test('security: runAsNonRoot is verified against runAsUser and the image user', async () => {
  const nonRoot = (extra: object = {}): V1Container => ({ name: 'a', securityContext: { runAsNonRoot: true, ...extra } });
  const podRef = 'pod: "web_shop(u-1)", container: a';
  await assert.rejects(buildContainerConfig(input(pod(nonRoot()))), { message: `container has runAsNonRoot and image will run as root (${podRef})` });
  await assert.rejects(buildContainerConfig(input(pod(nonRoot()), { imageUser: { uid: 0, username: '' } })), { message: `container has runAsNonRoot and image will run as root (${podRef})` });
  await assert.rejects(buildContainerConfig(input(pod(nonRoot()), { imageUser: { username: 'app' } })), { message: `container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (${podRef})` });
  await assert.rejects(buildContainerConfig(input(pod(nonRoot({ runAsUser: 0 })))), { message: `container's runAsUser breaks non-root policy (${podRef})` });
  await buildContainerConfig(input(pod(nonRoot()), { imageUser: { uid: 1000, username: '' } }));
  await buildContainerConfig(input(pod(nonRoot({ runAsUser: 1000 }))));
});

test('device plugin options: devices, mounts, envs, annotations and CDI names go into the config', async () => {
  const config = await buildContainerConfig(input(pod({ name: 'a' }), {
    devices: {
      devices: [{ hostPath: '/dev/fake0', containerPath: '/dev/fake0', permissions: 'rw' }],
      mounts: [{ hostPath: '/opt/drv', containerPath: '/drv', readOnly: true }],
      envs: { FAKE_DEVICES: 'fake0' },
      annotations: { 'vendor/dev': 'fake0' },
      cdiDevices: ['example.com/fake=fake0'],
    },
  }));
  assert.deepEqual(config.devices, [{ hostPath: '/dev/fake0', containerPath: '/dev/fake0', permissions: 'rw' }]);
  assert.deepEqual(config.mounts![1], { containerPath: '/drv', hostPath: '/opt/drv', readonly: true });
  assert.ok(config.envs!.some(e => e.key === 'FAKE_DEVICES' && e.value === 'fake0'));
  assert.equal(config.annotations!['vendor/dev'], 'fake0');
  assert.deepEqual(config.CDIDevices, [{ name: 'example.com/fake=fake0' }]);
});

test('the managed hosts file is bind-mounted writable at /etc/hosts, after the volumes, only when given', async () => {
  const c: V1Container = { name: 'a', image: 'busybox' };
  const hostsMount = { containerPath: '/etc/hosts', hostPath: '/root/pods/u-1/etc-hosts', readonly: false };
  const withHosts = await buildContainerConfig(input(pod(c), { etcHostsHostPath: '/root/pods/u-1/etc-hosts' }));
  assert.deepEqual(withHosts.mounts?.at(-1), hostsMount);
  const without = await buildContainerConfig(input(pod(c)));
  assert.ok(!without.mounts?.some((m) => m.containerPath === '/etc/hosts'));
});
