// Agent network mode's CNI plugins as spans: the runtime's delegate calls the agent's socket from
// outside any context, and each plugin's ADD (DEL) still nests under the RunPodSandbox
// (StopPodSandbox) span that waits for it, found by the pod uid in CNI_ARGS. Fake plugins, no
// root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createAgentNetwork } from '../../src/cni/agent-network.ts';
import { DELEGATE_SCRIPT } from '../../src/cni/install.ts';
import { formatCniArgs, podCniArgs } from '../../src/cni/plugin-input.ts';
import { createAgentTracing } from '../../src/trace/agent-tracing.ts';
import { exposeSpanFor, inSpan } from '../../src/trace/in-span.ts';
import { installFakePlugins } from './cni-fake-plugins.ts';

const silent = pino({ level: 'silent' });

function runDelegate(env: Record<string, string>, stdin: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DELEGATE_SCRIPT], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
    child.stdin.end(stdin);
  });
}

test('each plugin\'s ADD and DEL is a span under the sandbox step that caused it', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cni-trace-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const binDir = join(dir, 'bin');
  await installFakePlugins(binDir);
  const confDir = join(dir, 'net.d');
  await mkdir(confDir);
  await writeFile(join(confDir, '10-fake.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'fakenet', plugins: [{ type: 'fake-ip' }, { type: 'fake-pass' }] }));
  const pod: V1Pod = { metadata: { namespace: 'shop', name: 'cart', uid: 'uid-cart' }, spec: { containers: [{ name: 'app' }] } };
  const network = await createAgentNetwork({
    rootDir: join(dir, 'root'), confDir, binDirs: [binDir], logger: silent,
    lookupPod: async (ns, name) => (ns === 'shop' && name === 'cart' ? pod : undefined),
  });
  t.after(() => network.stop());
  const env = (command: string, uid = 'uid-cart') => ({
    CNI_COMMAND: command, CNI_CONTAINERID: 'sb-1', CNI_NETNS: '/var/run/netns/fake', CNI_IFNAME: 'eth0', CNI_PATH: binDir,
    CNI_ARGS: formatCniArgs(podCniArgs({ namespace: 'shop', name: 'cart', uid, sandboxId: 'sb-1' })),
  });
  const stdin = JSON.stringify({ cniVersion: '1.0.0', name: 'mini-kubelet', type: 'mini-kubelet-delegate', socket: network.socketPath });

  const tracing = await createAgentTracing({ podTimelines: true, samplingRatePerMillion: 0 }, 'node-a', silent);
  const ref = { uid: 'uid-cart', name: 'cart', namespace: 'shop' };
  // As the runtime manager does: the step exposes its context by pod uid while the runtime (here: the delegate) works.
  await tracing.podRoot('pod.sync', ref, {}, () => inSpan('RunPodSandbox', {}, () => exposeSpanFor('uid-cart', async () => {
    assert.equal((await runDelegate(env('ADD'), stdin)).code, 0);
  })));
  await tracing.podRoot('pod.terminate', ref, {}, () => inSpan('StopPodSandbox', {}, () => exposeSpanFor('uid-cart', async () => {
    assert.equal((await runDelegate(env('DEL'), stdin)).code, 0);
  })));
  // A delegate call for a pod with no step waiting: no span (nothing to nest under).
  assert.equal((await runDelegate(env('DEL', 'uid-nobody'), stdin)).code, 0);

  const spans = tracing.timelines!.timelineOf('shop', 'cart')!.spans;
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const parentOf = (name: string) => byId.get(spans.find((s) => s.name === name)!.parentSpanId!)?.name;
  assert.deepEqual(spans.filter((s) => s.name.startsWith('cni.')).map((s) => s.name), ['cni.add fake-ip', 'cni.add fake-pass', 'cni.del fake-pass', 'cni.del fake-ip']);
  assert.equal(parentOf('cni.add fake-ip'), 'RunPodSandbox');
  assert.equal(parentOf('cni.add fake-pass'), 'RunPodSandbox');
  assert.equal(parentOf('cni.del fake-ip'), 'StopPodSandbox');
  const add = spans.find((s) => s.name === 'cni.add fake-ip')!;
  assert.equal(add.attributes['k8s.sandbox.id'], 'sb-1');
  assert.equal(add.attributes['cni.network'], 'fakenet');
  assert.ok(add.durationMs > 0);
});
