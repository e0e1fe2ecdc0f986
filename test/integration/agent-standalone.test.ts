// Without --kubeconfig the agent runs static pods alone: the file's pod runs over CRI,
// /pods lists it with its status, and removing the file stops and removes it. With no API
// server to ask, the node API admits client certificates of --client-ca-file under
// AlwaysAllow; a request without one is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Agent, fetch } from 'undici';
import { createCertificateAuthority } from '../../src/tls/certificates.ts';
import { startSimRuntime } from '../../src/cri/sim/index.ts';
import { defaultConfig } from '../../src/agent/config/agent-config.ts';
import { startAgent } from '../../src/agent/start-agent.ts';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('standalone: a static pod runs and stops with its file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-solo-'));
  const sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests);
  const clientCa = await createCertificateAuthority('solo-client-ca');
  writeFileSync(join(dir, 'client-ca.crt'), clientCa.certPem);
  const admin = await clientCa.issue({ commonName: 'solo-admin', usages: ['clientAuth'] });
  const agent = await startAgent({
    ...defaultConfig,
    nodeName: 'solo-node',
    containerRuntimeEndpoint: sim.endpoint,
    rootDir: join(dir, 'root'),
    podLogsDir: join(dir, 'logs'),
    podManifestPath: manifests,
    port: 0,
    healthzPort: 0,
    address: '127.0.0.1',
    authentication: { ...defaultConfig.authentication, x509: { clientCAFile: join(dir, 'client-ca.crt') } },
    authorization: { ...defaultConfig.authorization, mode: 'AlwaysAllow' },
    intervals: { ...defaultConfig.intervals, plegRelistMs: 200, staticPodRescanMs: 300 },
  }, { logger: pino({ level: 'silent' }) });
  const trustNode = { ca: agent.servingCertificate.certPem };
  const asAdmin = new Agent({ connect: { ...trustNode, cert: admin.certPem, key: admin.keyPem } });
  const asNobody = new Agent({ connect: trustNode });
  t.after(async () => {
    try {
      await agent.stop();
      await agent.removeAllPods();
    } finally {
      await sim.stop();
      await Promise.all([asAdmin.close(), asNobody.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const file = join(manifests, 'solo.yaml');
  writeFileSync(file, 'apiVersion: v1\nkind: Pod\nmetadata: {name: solo}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers: [{name: app, image: "busybox:1.36", command: [sleep, "3600"]}]\n');
  const listed = await waitFor('solo Running in /pods', async () => {
    const list = await (await fetch(`https://127.0.0.1:${agent.port}/pods`, { dispatcher: asAdmin })).json() as { items: V1Pod[] };
    const pod = list.items.find((p) => p.metadata?.name === 'solo-solo-node');
    return pod?.status?.phase === 'Running' && pod;
  });
  assert.equal(listed.metadata?.annotations?.['kubernetes.io/config.source'], 'file');
  assert.equal((await agent.runtime.relist()).filter((p) => p.name === 'solo-solo-node').length, 1);
  assert.equal((await fetch(`https://127.0.0.1:${agent.port}/pods`, { dispatcher: asNobody })).status, 401);

  // A static pod file skips the API server's decoding: a request that is no quantity reaches the
  // agent, which rejects the pod (Failed, with its reason) instead of failing its sync forever.
  const bad = join(manifests, 'bad-quantity.yaml');
  writeFileSync(bad, 'apiVersion: v1\nkind: Pod\nmetadata: {name: badq}\nspec:\n  containers: [{name: app, image: "busybox:1.36", resources: {requests: {cpu: abc}}}]\n');
  const rejected = await waitFor('badq Failed in /pods', async () => {
    const list = await (await fetch(`https://127.0.0.1:${agent.port}/pods`, { dispatcher: asAdmin })).json() as { items: V1Pod[] };
    const pod = list.items.find((p) => p.metadata?.name === 'badq-solo-node');
    return pod?.status?.phase === 'Failed' && pod;
  });
  assert.equal(rejected.status?.reason, 'InvalidResourceQuantity');
  assert.match(rejected.status?.message ?? '', /^Pod was rejected: spec\.containers\[0\]\.resources\.requests\[cpu\]: invalid quantity "abc": quantities must match/);
  assert.equal((await agent.runtime.relist()).filter((p) => p.name === 'badq-solo-node').length, 0, 'no sandbox for the rejected pod');
  unlinkSync(bad);

  unlinkSync(file);
  await waitFor('solo removed from the runtime', async () => (await agent.runtime.relist()).every((p) => p.name !== 'solo-solo-node'));
});
