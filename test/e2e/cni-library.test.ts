import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireE2e } from '../helpers/e2e.ts';
import { CniClient } from '../../src/cni/cni-client.ts';
import { loadNetwork } from '../../src/cni/config.ts';
import { CniConfigError, CniPluginError } from '../../src/cni/errors.ts';
import { podCniArgs, type CniAttachment } from '../../src/cni/plugin-input.ts';
import { ipsOfResult } from '../../src/cni/result.ts';
import { DEBIAN_CNI_BIN, inNetns, makeCniWorld, sh, writeFailingPlugin } from './cni-fixtures.ts';

function attachmentFor(netns: string, containerId: string, capabilityArgs: Record<string, unknown> = {}): CniAttachment {
  return { containerId, netns, ifName: 'eth0', args: podCniArgs({ namespace: 'default', name: 'web', uid: 'uid-1', sandboxId: containerId }), capabilityArgs };
}

test('bridge + host-local + portmap: ADD gives an IP, a default route and the hostPort rule; DEL twice frees them', { timeout: 60_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const world = await makeCniWorld(t);
  await writeFile(join(world.confDir, '10-e2e.conflist'), JSON.stringify(world.conflist([{ type: 'portmap', capabilities: { portMappings: true } }])));
  const list = await loadNetwork(world.confDir);
  const client = new CniClient({ binDirs: [world.fakeBinDir, DEBIAN_CNI_BIN], cacheDir: join(world.dir, 'results') });
  const netns = await world.addNetns();
  const hostPort = 30000 + Math.floor(Math.random() * 20000);
  const att = attachmentFor(netns, `sandbox-${world.networkName}`, { portMappings: [{ hostPort, containerPort: 80, protocol: 'tcp' }] });
  world.beforeCleanup(() => client.delNetworkList(list, att));

  const result = await client.addNetworkList(list, att);
  const [ip] = ipsOfResult(result);
  assert.ok(ip.startsWith(`${world.prefix}.`), `IP ${ip} not in ${world.prefix}.0/24`);
  assert.match(await inNetns(netns, 'ip', '-4', 'addr', 'show', 'dev', 'eth0'), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24`));
  assert.match(await inNetns(netns, 'ip', 'route'), new RegExp(`default via ${world.gateway.replace(/\./g, '\\.')}`));
  assert.match(await sh('iptables', '-t', 'nat', '-S'), new RegExp(`--dport ${hostPort}\\b`), 'portmap got the hostPort');
  assert.deepEqual(await world.allocatedIps(), [ip]);
  assert.ok(await client.cache.get(list.name, att.containerId, 'eth0'), 'result cached');

  await client.delNetworkList(list, att);
  await client.delNetworkList(list, att);
  assert.deepEqual(await world.allocatedIps(), []);
  assert.equal(await client.cache.get(list.name, att.containerId, 'eth0'), undefined);
  assert.doesNotMatch(await sh('iptables', '-t', 'nat', '-S'), new RegExp(`--dport ${hostPort}\\b`), 'portmap rule removed');
  await assert.rejects(inNetns(netns, 'ip', 'link', 'show', 'dev', 'eth0'), 'eth0 removed from the netns');
});

// CHECK without portmap: Debian's portmap 1.1.1 fails CHECK by looking for its rules in the
// IPv6 table (containernetworking/plugins#819, fixed upstream later).
test('CHECK passes on a healthy attachment and fails once its interface is gone', { timeout: 60_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const world = await makeCniWorld(t);
  await writeFile(join(world.confDir, '10-e2e.conflist'), JSON.stringify(world.conflist()));
  const list = await loadNetwork(world.confDir);
  const client = new CniClient({ binDirs: [DEBIAN_CNI_BIN], cacheDir: join(world.dir, 'results') });
  const netns = await world.addNetns();
  const att = attachmentFor(netns, `sandbox-check-${world.networkName}`);
  world.beforeCleanup(() => client.delNetworkList(list, att));

  await client.addNetworkList(list, att);
  await client.checkNetworkList(list, att);
  await inNetns(netns, 'ip', 'link', 'del', 'eth0');
  await assert.rejects(client.checkNetworkList(list, att), (err: unknown) => err instanceof CniPluginError && err.plugin === 'bridge');
  await client.delNetworkList(list, att);
  assert.deepEqual(await world.allocatedIps(), []);
  await assert.rejects(client.checkNetworkList(list, att), (err: unknown) => err instanceof CniPluginError && err.code === 3, 'no cached result after DEL');
});

test('a broken configuration is a typed error naming the file', { timeout: 30_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const world = await makeCniWorld(t);
  const file = join(world.confDir, '05-broken.conflist');
  await writeFile(file, JSON.stringify({ ...world.conflist(), plugins: [{ ipam: {} }] }));
  await assert.rejects(loadNetwork(world.confDir), (err: unknown) => err instanceof CniConfigError && err.file === file && err.field === 'plugins[0].type');
});

test('a plugin failing mid-chain leaves nothing allocated', { timeout: 60_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const world = await makeCniWorld(t);
  await writeFailingPlugin(world.fakeBinDir, 'fails-on-add', 142, 'refusing on purpose');
  await writeFile(join(world.confDir, '10-e2e.conflist'), JSON.stringify(world.conflist([{ type: 'fails-on-add' }])));
  const list = await loadNetwork(world.confDir);
  const client = new CniClient({ binDirs: [world.fakeBinDir, DEBIAN_CNI_BIN], cacheDir: join(world.dir, 'results') });
  const netns = await world.addNetns();
  const att = attachmentFor(netns, `sandbox-fail-${world.networkName}`);

  await assert.rejects(client.addNetworkList(list, att), (err: unknown) =>
    err instanceof CniPluginError && err.code === 142 && err.msg === 'refusing on purpose' && err.plugin === 'fails-on-add');
  assert.deepEqual(await world.allocatedIps(), [], 'host-local released the IP');
  await assert.rejects(inNetns(netns, 'ip', 'link', 'show', 'dev', 'eth0'), 'no eth0 left in the netns');
  assert.equal(await client.cache.get(list.name, att.containerId, 'eth0'), undefined);
});

test('a plugin that does not speak the network version is refused before anything runs', { timeout: 30_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const world = await makeCniWorld(t);
  await writeFile(join(world.confDir, '10-e2e.conflist'), JSON.stringify({ ...world.conflist(), cniVersion: '1.1.0' }));
  const list = await loadNetwork(world.confDir);
  const client = new CniClient({ binDirs: [DEBIAN_CNI_BIN], cacheDir: join(world.dir, 'results') });
  const netns = await world.addNetns();
  await assert.rejects(client.addNetworkList(list, attachmentFor(netns, 'c-version')), (err: unknown) =>
    err instanceof CniPluginError && err.code === 1 && err.plugin === 'bridge');
  assert.deepEqual(await world.allocatedIps(), []);
});
