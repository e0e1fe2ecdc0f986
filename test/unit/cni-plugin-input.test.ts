import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetworkConfig } from '../../src/cni/config.ts';
import { CniPluginError } from '../../src/cni/errors.ts';
import { buildPluginEnv, buildPluginStdin, filterRuntimeConfig, formatCniArgs, parseCniArgs, podCniArgs } from '../../src/cni/plugin-input.ts';
import { parseResult } from '../../src/cni/result.ts';
import { splitBinDirs } from '../../src/cni/plugin-exec.ts';

const list = parseNetworkConfig('/d/10.conflist', JSON.stringify({
  cniVersion: '1.0.0',
  name: 'podnet',
  plugins: [
    { type: 'bridge', bridge: 'cni0', runtimeConfig: { stale: true } },
    { type: 'portmap', capabilities: { portMappings: true, bandwidth: false } },
    { type: 'bandwidth', capabilities: { bandwidth: true } },
  ],
}));
const caps = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], bandwidth: { ingressRate: 1000 }, dns: { servers: ['10.0.0.10'] } };

test('CNI_ARGS carries IgnoreUnknown and the kubelet pod keys in order', () => {
  const args = podCniArgs({ namespace: 'default', name: 'web', uid: 'u-1', sandboxId: 'abc' });
  const text = formatCniArgs(args);
  assert.equal(text, 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u-1');
  assert.equal(parseCniArgs(text).get('K8S_POD_UID'), 'u-1');
  assert.throws(() => formatCniArgs([['K', 'a;b']]), CniPluginError);
});

test('the environment has the spec variables and drops inherited CNI_ ones', () => {
  const env = buildPluginEnv('ADD', ['/opt/cni/bin', '/usr/lib/cni'], { containerId: 'c1', netns: '/var/run/netns/x', ifName: 'eth0', args: [['K8S_POD_NAME', 'web']], capabilityArgs: {} }, { PATH: '/usr/bin', CNI_COMMAND: 'DEL', CNI_OTHER: 'x' });
  assert.deepEqual(env, {
    PATH: '/usr/bin',
    CNI_COMMAND: 'ADD',
    CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
    CNI_CONTAINERID: 'c1',
    CNI_NETNS: '/var/run/netns/x',
    CNI_IFNAME: 'eth0',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web',
  });
  assert.deepEqual(buildPluginEnv('VERSION', ['/b'], undefined, {}), { CNI_COMMAND: 'VERSION', CNI_PATH: '/b' });
});

test('runtimeConfig holds only the capabilities a plugin declares as true', () => {
  assert.deepEqual(filterRuntimeConfig(list.plugins[0], caps), {});
  assert.deepEqual(filterRuntimeConfig(list.plugins[1], caps), { portMappings: caps.portMappings });
  assert.deepEqual(filterRuntimeConfig(list.plugins[2], caps), { bandwidth: caps.bandwidth });
  assert.deepEqual(filterRuntimeConfig(list.plugins[2], {}), {});
});

test('stdin has the network name and version, prevResult in that version, and no stale runtimeConfig', () => {
  const prev = parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 0 }], interfaces: [{ name: 'eth0' }] }, '1.0.0');
  const first = buildPluginStdin(list, list.plugins[0], { capabilityArgs: caps });
  assert.equal(first.name, 'podnet');
  assert.equal(first.cniVersion, '1.0.0');
  assert.equal(first.bridge, 'cni0');
  assert.equal('runtimeConfig' in first, false);
  assert.equal('prevResult' in first, false);
  const second = buildPluginStdin(list, list.plugins[1], { prevResult: prev, capabilityArgs: caps });
  assert.deepEqual(second.runtimeConfig, { portMappings: caps.portMappings });
  assert.deepEqual((second.prevResult as { ips: unknown[] }).ips, [{ address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 0 }]);
});

test('a --cni-bin-dir value splits on commas and colons', () => {
  assert.deepEqual(splitBinDirs('/opt/cni/bin,/usr/lib/cni'), ['/opt/cni/bin', '/usr/lib/cni']);
  assert.deepEqual(splitBinDirs('/opt/cni/bin:/usr/lib/cni:'), ['/opt/cni/bin', '/usr/lib/cni']);
});
