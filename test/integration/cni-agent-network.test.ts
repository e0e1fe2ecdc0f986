// The network manager and the CNI library against fake plugins: what each plugin is handed
// (env, prevResult, runtimeConfig), ordering, the cache across a restart, STATUS and GC.
// No root needed: the fake plugins touch no real network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createAgentNetwork } from '../../src/cni/agent-network.ts';
import { CniClient } from '../../src/cni/cni-client.ts';
import { loadNetwork, parseNetworkConfig } from '../../src/cni/config.ts';
import { CniPluginError } from '../../src/cni/errors.ts';
import { DELEGATE_SCRIPT, installDelegate } from '../../src/cni/install.ts';
import { formatCniArgs, podCniArgs } from '../../src/cni/plugin-input.ts';
import { installFakePlugins } from './cni-fake-plugins.ts';

async function tempDir(t: import('node:test').TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cni-int-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function runDelegate(env: Record<string, string>, stdin: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DELEGATE_SCRIPT], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
    child.stdin.end(stdin);
  });
}

const pod: V1Pod = {
  metadata: { namespace: 'shop', name: 'cart', uid: 'uid-cart', annotations: { 'kubernetes.io/egress-bandwidth': '5M' } },
  spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, hostPort: 8080 }] }] },
};

test('the agent runs the chain with the pod\'s data and answers the delegate in the runtime\'s version', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const binDir = join(dir, 'bin');
  const fakes = await installFakePlugins(binDir);
  const confDir = join(dir, 'net.d');
  await mkdir(confDir);
  await writeFile(join(confDir, '10-fake.conflist'), JSON.stringify({
    cniVersion: '1.0.0', name: 'fakenet',
    plugins: [{ type: 'fake-ip', capabilities: { bandwidth: true } }, { type: 'fake-pass', capabilities: { portMappings: true, dns: true } }],
  }));
  const rootDir = join(dir, 'root');
  const socketPath = join(rootDir, 'cni', 'agent.sock');
  const start = () => createAgentNetwork({
    rootDir, confDir, binDirs: [join(dir, 'nothing-here'), binDir], logger: pino({ level: 'silent' }),
    lookupPod: async (ns, name, uid) => (ns === 'shop' && name === 'cart' && uid === 'uid-cart' ? pod : undefined),
  });
  let agent = await start();
  t.after(() => agent.stop());
  assert.equal(agent.socketPath, socketPath);
  assert.equal((await agent.status()).ready, true);

  const env = (command: string) => ({
    CNI_COMMAND: command, CNI_CONTAINERID: 'sb-1', CNI_NETNS: '/var/run/netns/fake', CNI_IFNAME: 'eth0', CNI_PATH: binDir,
    CNI_ARGS: formatCniArgs(podCniArgs({ namespace: 'shop', name: 'cart', uid: 'uid-cart', sandboxId: 'sb-1' })),
  });
  // The runtime's network config speaks 0.4.0: the answer must come back in 0.4.0.
  const stdin = JSON.stringify({ cniVersion: '0.4.0', name: 'mini-kubelet', type: 'mini-kubelet-delegate', socket: socketPath });
  const add = await runDelegate(env('ADD'), stdin);
  assert.equal(add.code, 0, add.stdout);
  const result = JSON.parse(add.stdout) as { cniVersion: string; ips: Array<Record<string, unknown>> };
  assert.equal(result.cniVersion, '0.4.0');
  assert.deepEqual(result.ips, [{ version: '4', address: '10.9.0.7/24', gateway: '10.9.0.1', interface: 0 }]);
  assert.deepEqual(agent.ipsOf('sb-1'), ['10.9.0.7']);

  const adds = (await fakes.calls()).filter((c) => c.cmd === 'ADD');
  assert.deepEqual(adds.map((c) => c.type), ['fake-ip', 'fake-pass']);
  for (const c of adds) {
    assert.equal(c.env.CNI_ARGS, 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=cart;K8S_POD_INFRA_CONTAINER_ID=sb-1;K8S_POD_UID=uid-cart');
    assert.equal(c.env.CNI_PATH, `${join(dir, 'nothing-here')}:${binDir}`);
    assert.equal(c.env.CNI_NETNS, '/var/run/netns/fake');
    assert.equal(c.conf.name, 'fakenet');
    assert.equal(c.conf.cniVersion, '1.0.0');
  }
  assert.deepEqual(adds[0].conf.runtimeConfig, { bandwidth: { egressRate: 5_000_000, egressBurst: 2 ** 31 - 1 } });
  assert.equal(adds[0].conf.prevResult, undefined);
  assert.deepEqual(adds[1].conf.runtimeConfig, { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
  assert.deepEqual((adds[1].conf.prevResult as { ips: unknown[] }).ips, [{ address: '10.9.0.7/24', gateway: '10.9.0.1', interface: 0 }]);

  // A restarted agent answers CHECK and DEL from the cache: DEL in reverse, each with the result.
  await agent.stop();
  agent = await start();
  assert.deepEqual(agent.ipsOf('sb-1'), ['10.9.0.7']);
  assert.equal((await runDelegate(env('CHECK'), stdin)).code, 0);
  const del = await runDelegate(env('DEL'), stdin);
  assert.equal(del.code, 0, del.stdout);
  const dels = (await fakes.calls()).filter((c) => c.cmd === 'DEL');
  assert.deepEqual(dels.map((c) => c.type), ['fake-pass', 'fake-ip']);
  for (const c of dels) assert.deepEqual((c.conf.prevResult as { ips: unknown[] }).ips, [{ address: '10.9.0.7/24', gateway: '10.9.0.1', interface: 0 }]);
  assert.equal(agent.ipsOf('sb-1'), undefined);
  const check = await runDelegate(env('CHECK'), stdin);
  assert.notEqual(check.code, 0);
  assert.equal((JSON.parse(check.stdout) as { code: number }).code, 3, 'CHECK of something deleted: container unknown');
});

test('STATUS and GC reach the plugins of a 1.1.0 network', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const binDir = join(dir, 'bin');
  const fakes = await installFakePlugins(binDir);
  const list = parseNetworkConfig(join(dir, 'x.conflist'), JSON.stringify({ cniVersion: '1.1.0', name: 'gcnet', plugins: [{ type: 'fake-ip' }, { type: 'fake-pass' }] }));
  const client = new CniClient({ binDirs: [binDir], cacheDir: join(dir, 'results') });
  const attach = (containerId: string) => ({ containerId, netns: '/var/run/netns/fake', ifName: 'eth0', args: [], capabilityArgs: {} });

  await client.statusNetworkList(list);
  await writeFile(join(binDir, 'unavailable'), '');
  await assert.rejects(client.statusNetworkList(list), (e: unknown) => e instanceof CniPluginError && e.code === 50 && e.plugin === 'fake-ip');

  await client.addNetworkList(list, attach('keep'));
  await client.addNetworkList(list, attach('stale'));
  await client.gcNetworkList(list, [{ containerId: 'keep', ifName: 'eth0' }]);
  const calls = await fakes.calls();
  assert.deepEqual(calls.filter((c) => c.cmd === 'DEL').map((c) => c.env.CNI_CONTAINERID), ['stale', 'stale'], 'the stale attachment was deleted');
  const gcs = calls.filter((c) => c.cmd === 'GC');
  assert.deepEqual(gcs.map((c) => c.type), ['fake-ip', 'fake-pass']);
  assert.deepEqual(gcs[0].conf['cni.dev/valid-attachments'], [{ containerID: 'keep', ifname: 'eth0' }]);
  assert.ok(await client.cache.get('gcnet', 'keep', 'eth0'));
  assert.equal(await client.cache.get('gcnet', 'stale', 'eth0'), undefined);
});

test('a failed ADD runs DEL on every plugin and caches nothing', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const binDir = join(dir, 'bin');
  const fakes = await installFakePlugins(binDir);
  const list = parseNetworkConfig(join(dir, 'x.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'failnet', plugins: [{ type: 'fake-ip' }, { type: 'fake-fail' }] }));
  const client = new CniClient({ binDirs: [binDir], cacheDir: join(dir, 'results') });
  await assert.rejects(client.addNetworkList(list, { containerId: 'c1', netns: '/n', ifName: 'eth0', args: [], capabilityArgs: {} }), (e: unknown) => e instanceof CniPluginError && e.code === 142);
  assert.deepEqual((await fakes.calls()).filter((c) => c.cmd !== 'VERSION').map((c) => `${c.cmd} ${c.type}`), ['ADD fake-ip', 'ADD fake-fail', 'DEL fake-fail', 'DEL fake-ip']);
  assert.deepEqual(await client.cache.list(), []);
});

test('cni install writes a delegate that answers VERSION and a conflist naming it', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const installed = await installDelegate({ confDir: join(dir, 'net.d'), binDir: join(dir, 'bin'), socketPath: join(dir, 'agent.sock') });
  const list = await loadNetwork(join(dir, 'net.d'));
  assert.equal(list.file, installed.confPath);
  assert.deepEqual(list.plugins, [{ type: 'mini-kubelet-delegate', socket: join(dir, 'agent.sock') }]);
  const client = new CniClient({ binDirs: [join(dir, 'bin')], cacheDir: join(dir, 'results') });
  assert.ok((await client.pluginVersions('mini-kubelet-delegate')).includes('1.0.0'));
});
