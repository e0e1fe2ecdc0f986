import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { requireE2e } from '../helpers/e2e.ts';
import { createAgentNetwork, type AgentNetwork } from '../../src/cni/agent-network.ts';
import { delegateConflist, installDelegate } from '../../src/cni/install.ts';
import { formatCniArgs, podCniArgs } from '../../src/cni/plugin-input.ts';
import { DEBIAN_CNI_BIN, makeCniWorld, sh, type CniWorld } from './cni-fixtures.ts';

interface DelegateRun {
  code: number | null;
  stdout: string;
}

/** Call the installed delegate as a runtime does: CNI_* env and the network's config on stdin. */
function runDelegate(pluginPath: string, env: Record<string, string>, stdin: string): Promise<DelegateRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(pluginPath, [], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
    child.stdin.end(stdin);
  });
}

async function setUp(t: import('node:test').TestContext, hostPort = 0) {
  const world: CniWorld = await makeCniWorld(t);
  await writeFile(join(world.confDir, '10-pods.conflist'), JSON.stringify(world.conflist([{ type: 'portmap', capabilities: { portMappings: true } }])));
  const rootDir = join(world.dir, 'root');
  const socketPath = join(rootDir, 'cni', 'agent.sock');
  const installed = await installDelegate({ confDir: join(world.dir, 'runtime-net.d'), binDir: join(world.dir, 'runtime-bin'), socketPath });
  const conflist = delegateConflist('mini-kubelet', socketPath) as { cniVersion: string; name: string; plugins: object[] };
  // What libcni puts on a plugin's stdin: the plugin's entry plus the network's name and version.
  const stdin = JSON.stringify({ cniVersion: conflist.cniVersion, name: conflist.name, ...conflist.plugins[0] });
  const pod: V1Pod = {
    metadata: { namespace: 'default', name: `web-${world.networkName}`, uid: `uid-${world.networkName}` },
    spec: { containers: [{ name: 'app', ports: hostPort ? [{ containerPort: 80, hostPort }] : [] }] },
  };
  const agents: AgentNetwork[] = [];
  world.beforeCleanup(async () => {
    for (const a of agents) await a.stop();
  });
  const startAgent = async () => {
    const agent = await createAgentNetwork({
      rootDir, confDir: world.confDir, binDirs: [DEBIAN_CNI_BIN], socketPath, logger: pino({ level: 'silent' }),
      lookupPod: async (ns, name, uid) => (ns === 'default' && name === pod.metadata?.name && uid === pod.metadata?.uid ? pod : undefined),
    });
    agents.push(agent);
    return agent;
  };
  const netns = await world.addNetns();
  const sandboxId = `sandbox-${world.networkName}`;
  const envFor = (command: string, podName = pod.metadata?.name as string) => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: sandboxId,
    CNI_NETNS: netns,
    CNI_IFNAME: 'eth0',
    CNI_PATH: join(world.dir, 'runtime-bin'),
    CNI_ARGS: formatCniArgs(podCniArgs({ namespace: 'default', name: podName, uid: pod.metadata?.uid as string, sandboxId })),
  });
  const call = (command: string, podName?: string) => runDelegate(installed.pluginPath, envFor(command, podName), stdin);
  return { world, startAgent, call, sandboxId, netns };
}

test('delegate ADD through the agent returns an IP that ipsOf() reports, with the pod\'s hostPort mapped; DEL frees it', { timeout: 60_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const hostPort = 30000 + Math.floor(Math.random() * 20000);
  const { world, startAgent, call, sandboxId } = await setUp(t, hostPort);
  const agent = await startAgent();
  assert.equal(agent.mode, 'agent');

  const add = await call('ADD');
  assert.equal(add.code, 0, add.stdout);
  const result = JSON.parse(add.stdout) as { cniVersion: string; ips: Array<{ address: string }> };
  assert.equal(result.cniVersion, '1.0.0');
  const ip = result.ips[0].address.split('/')[0];
  assert.ok(ip.startsWith(`${world.prefix}.`), ip);
  assert.deepEqual(agent.ipsOf(sandboxId), [ip]);
  assert.deepEqual(await world.allocatedIps(), [ip]);
  assert.match(await sh('iptables', '-t', 'nat', '-S'), new RegExp(`--dport ${hostPort}\\b`), 'the pod\'s hostPort reached portmap');

  const del = await call('DEL');
  assert.equal(del.code, 0, del.stdout);
  assert.equal(agent.ipsOf(sandboxId), undefined);
  assert.deepEqual(await world.allocatedIps(), []);
  assert.equal((await call('DEL')).code, 0, 'DEL is idempotent');
});

test('delegate VERSION is answered without the agent', { timeout: 30_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const { call } = await setUp(t);
  const version = await call('VERSION');
  assert.equal(version.code, 0);
  assert.ok((JSON.parse(version.stdout) as { supportedVersions: string[] }).supportedVersions.includes('1.0.0'));
});

test('with the agent stopped, ADD fails with a CNI error and DEL succeeds', { timeout: 30_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const { world, startAgent, call } = await setUp(t);
  const agent = await startAgent();
  await agent.stop();

  const add = await call('ADD');
  assert.notEqual(add.code, 0);
  const err = JSON.parse(add.stdout) as { code: number; msg: string };
  assert.equal(err.code, 11);
  assert.match(err.msg, /agent unreachable/);
  assert.equal((await call('DEL')).code, 0);
  assert.deepEqual(await world.allocatedIps(), []);
});

test('ADD for a pod the agent does not know fails with a CNI error and allocates nothing', { timeout: 30_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const { world, startAgent, call } = await setUp(t);
  await startAgent();
  const add = await call('ADD', 'some-other-pod');
  assert.notEqual(add.code, 0);
  const err = JSON.parse(add.stdout) as { code: number; msg: string };
  assert.equal(err.code, 11);
  assert.match(err.msg, /some-other-pod/);
  assert.deepEqual(await world.allocatedIps(), []);
});

test('an agent restarted between ADD and DEL still knows the IP and tears down cleanly', { timeout: 60_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const { world, startAgent, call, sandboxId } = await setUp(t);
  const first = await startAgent();
  const add = await call('ADD');
  assert.equal(add.code, 0, add.stdout);
  const ips = first.ipsOf(sandboxId);
  await first.stop();

  const second = await startAgent();
  assert.deepEqual(second.ipsOf(sandboxId), ips, 'IPs come back from the result cache');
  const del = await call('DEL');
  assert.equal(del.code, 0, del.stdout);
  assert.equal(second.ipsOf(sandboxId), undefined);
  assert.deepEqual(await world.allocatedIps(), []);
});

test('a DEL that found no agent is finished by the agent when it starts again', { timeout: 60_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const { world, startAgent, call, sandboxId } = await setUp(t);
  const first = await startAgent();
  assert.equal((await call('ADD')).code, 0);
  await first.stop();
  assert.equal((await call('DEL')).code, 0);
  assert.equal((await world.allocatedIps()).length, 1, 'still allocated while the agent is away');

  const second = await startAgent();
  assert.deepEqual(await world.allocatedIps(), []);
  assert.equal(second.ipsOf(sandboxId), undefined);
});

test('release() tears down what the runtime did not, and is idempotent', { timeout: 60_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const { world, startAgent, call, sandboxId, netns } = await setUp(t);
  const agent = await startAgent();
  assert.equal((await call('ADD')).code, 0);
  const target = { podUid: 'u', podName: 'web', podNamespace: 'default', sandboxId, netnsPath: netns };
  await agent.release(target);
  assert.deepEqual(await world.allocatedIps(), []);
  assert.equal(agent.ipsOf(sandboxId), undefined);
  await agent.release(target);
  assert.equal((await call('DEL')).code, 0, 'a later DEL from the runtime still succeeds');
});
