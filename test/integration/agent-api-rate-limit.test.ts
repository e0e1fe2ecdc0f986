// --kube-api-qps and --kube-api-burst, as the dev control plane sees them: the in-process agent
// on the simulated runtime, limited to 5 requests a second with a burst of 1, starts pods; the
// requests it sends that the limit covers arrive ~200 ms apart, never more than 5 (+1) a second. What
// the limit leaves alone (watches, the heartbeat's node and Lease calls, events) is left out.
// The figures are arrival times the API server took, never a timed assert on the test's side.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { createCertificateAuthority } from '../../src/tls/certificates.ts';
import { startApiServer, type RunningApiServer } from '../../src/apiserver/index.ts';
import type { ObservedRequest } from '../../src/apiserver/http-server.ts';
import { startSimRuntime, type SimRuntime } from '../../src/cri/sim/index.ts';
import { startAgent, type RunningAgent } from '../../src/agent/start-agent.ts';
import { pollFor } from '../../src/world/wait.ts';
import { simAgentConfig } from '../helpers/sim-agent-config.ts';

const silent = pino({ level: 'silent' });
const nodeName = 'qps-node';
const pods = 4;
let dir: string;
let apiServer: RunningApiServer;
let sim: SimRuntime;
let agent: RunningAgent | undefined;
const seen: ObservedRequest[] = [];

/** Calls the kubelet makes without its client's limit: watches, heartbeats (their own unthrottled client), events (their own limit). */
function exempt(r: ObservedRequest): boolean {
  if (/(^|&)watch=(true|1)/.test(r.query)) return true;
  if (r.path.includes('/leases/') || r.path.endsWith('/leases') || r.path.includes('/events')) return true;
  return r.path === `/api/v1/nodes/${nodeName}` && r.method === 'GET' || r.path === `/api/v1/nodes/${nodeName}/status`;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-qps-'));
  apiServer = await startApiServer({ port: 0, logger: silent, binder: false, onRequest: (r) => seen.push(r) });
  sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), images: ['busybox:1.36'] });
  writeFileSync(join(dir, 'client-ca.crt'), (await createCertificateAuthority('qps-client-ca')).certPem);
  const nodeKubeConfig = new KubeConfig();
  nodeKubeConfig.loadFromString(await apiServer.nodeKubeconfig(nodeName));
  agent = await startAgent(simAgentConfig(dir, nodeName, sim.endpoint, { kubeAPIQPS: 5, kubeAPIBurst: 1 }), { logger: silent, kubeConfig: nodeKubeConfig });
});

after(async () => {
  try {
    await agent?.stop();
    await agent?.removeAllPods();
  } finally {
    await sim?.stop();
    await apiServer?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with --kube-api-qps 5 --kube-api-burst 1 the agent\'s requests reach the API server ~200 ms apart', { timeout: 60_000 }, async () => {
  const kube = apiServer.kubeConfig().makeApiClient(CoreV1Api);
  for (let i = 0; i < pods; i++) {
    await kube.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: `p${i}` },
      spec: { nodeName, containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
    } });
  }
  await pollFor(async () => {
    const list = await kube.listNamespacedPod({ namespace: 'default' });
    return list.items.filter((p) => p.status?.phase === 'Running').length === pods || undefined;
  }, { what: `${pods} pods Running`, timeoutMs: 45_000, intervalMs: 100 });

  const limited = seen.filter((r) => r.user === `system:node:${nodeName}` && !exempt(r)).sort((a, b) => a.atMs - b.atMs);
  // At least the node registration, the pod and Service lists, and a status patch per pod.
  assert.ok(limited.length >= pods + 3, `only ${limited.length} limited requests: ${limited.map((r) => `${r.method} ${r.path}`).join(', ')}`);
  const at = limited.map((r) => r.atMs);
  const gaps = at.slice(1).map((t, i) => Math.round(t - at[i]!));
  const shown = `${limited.length} requests, gaps (ms): ${gaps.join(' ')}`;
  // A token every 200 ms; a request may reach the server late (a new connection's TLS handshake on
  // a busy machine), never early, so the figures allow for lateness only: the median gap, the
  // whole span, and at most qps + burst (+1 late one) in any second.
  const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
  assert.ok(median >= 190, `median gap ${median} ms; ${shown}`);
  assert.ok(at.at(-1)! - at[0]! >= (at.length - 1) * 200 - 300, `span ${Math.round(at.at(-1)! - at[0]!)} ms; ${shown}`);
  const busiestSecond = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 1000).length));
  assert.ok(busiestSecond <= 7, `${busiestSecond} requests within one second; ${shown}`);
});
