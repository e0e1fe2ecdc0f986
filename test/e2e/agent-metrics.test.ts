// /metrics on real containerd, as an operator meets it: through the machine's kubectl and the dev
// control plane's nodes/<node>/proxy/metrics, and straight at the node API with curl. The
// kubelet's metric names are served, kubelet_running_pods rises when a pod starts, and the
// endpoint is guarded like every other: no credentials is a 401, a caller without nodes/metrics
// a 403 (nodes/proxy alone is not enough), until a ClusterRole grants it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { pollFor } from '../../src/world/wait.ts';
import { busyboxPod, isRunningAndReady, namespace, startAgentHarness } from '../helpers/agent-harness.ts';
import { requireE2e } from '../helpers/e2e.ts';
import { parseExposition, type Exposition } from '../helpers/prometheus-text.ts';

const execFileAsync = promisify(execFile);

async function curl(url: string, ...args: string[]): Promise<{ code: number; body: string }> {
  const { stdout } = await execFileAsync('curl', ['-sS', '-k', '-o', '-', '-w', '\n%{http_code}', ...args, url], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
  const cut = stdout.lastIndexOf('\n');
  return { code: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

const KUBELET_NAMES = [
  'kubelet_node_name', 'kubelet_running_pods', 'kubelet_running_containers', 'kubelet_started_pods_total',
  'kubelet_started_pods_errors_total', 'kubelet_started_containers_total', 'kubelet_pod_start_duration_seconds',
  'kubelet_pod_worker_duration_seconds', 'kubelet_runtime_operations_total', 'kubelet_runtime_operations_duration_seconds',
  'kubelet_runtime_operations_errors_total', 'kubelet_pleg_relist_duration_seconds', 'kubelet_pleg_relist_interval_seconds',
  'mini_kubelet_sync_step_duration_seconds',
];

test('/metrics through kubectl and the node proxy, on real containerd, guarded like every node API route', { timeout: 240_000 }, async (t) => {
  if (!requireE2e(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'mk-metrics-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A short authorization cache, so a new binding is seen in a second.
  const h = await startAgentHarness(t, {
    nodeName: 'metrics-node',
    kubeletConfig: { authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '1s', cacheUnauthorizedTTL: '1s' } } },
  });
  const proxyMetrics = `/api/v1/nodes/${h.nodeName}/proxy/metrics`;
  const scrape = async (): Promise<Exposition> => parseExposition(await h.kubectl('get', '--raw', proxyMetrics));
  const running = (e: Exposition) => e.value('kubelet_running_pods') ?? 0;
  const node = await h.core.readNode({ name: h.nodeName });
  const base = `https://127.0.0.1:${node.status!.daemonEndpoints!.kubeletEndpoint!.Port}`;

  await t.test('kubectl get --raw nodes/<node>/proxy/metrics serves the kubelet metric names', async () => {
    const e = await scrape();
    for (const name of KUBELET_NAMES) assert.ok(e.types.has(name), `${name} is served`);
    assert.equal(e.value('kubelet_node_name', { node: h.nodeName }), 1);
    assert.ok((e.value('kubelet_runtime_operations_total', { operation_type: 'version' }) ?? 0) >= 1, 'CRI calls to containerd are counted');
  });

  await t.test('kubelet_running_pods rises when a pod starts, and the start is counted and timed', async () => {
    const before = await scrape();
    await h.createPod(busyboxPod('metered', h.world.images.busybox));
    await h.waitForPod('metered', 'Running and Ready', isRunningAndReady);
    const after = await pollFor(async () => {
      const e = await scrape();
      // The gauges follow PLEG relists: the one that first sees the sandbox may predate the container's start.
      const containers = (x: Exposition) => x.value('kubelet_running_containers', { container_state: 'running' }) ?? 0;
      return running(e) >= running(before) + 1 && containers(e) >= containers(before) + 1 ? e : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'kubelet_running_pods and running containers to rise after the pod started' });
    const grew = (name: string, labels?: Record<string, string>) => (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);
    assert.ok(grew('kubelet_started_pods_total') >= 1);
    assert.ok(grew('kubelet_started_containers_total', { container_type: 'container' }) >= 1);
    assert.ok(grew('kubelet_runtime_operations_total', { operation_type: 'run_podsandbox' }) >= 1);
    assert.ok(grew('kubelet_runtime_operations_total', { operation_type: 'create_container' }) >= 1);
    assert.ok(grew('kubelet_pod_start_duration_seconds_count') >= 1);
    assert.ok(grew('kubelet_pod_worker_duration_seconds_count', { operation_type: 'create' }) >= 1);
  });

  await t.test('no credentials is a 401; a token without nodes/metrics is a 403, even with nodes/proxy, until granted', async () => {
    const anonymous = await curl(`${base}/metrics`);
    assert.equal(anonymous.code, 401, anonymous.body);
    assert.doesNotMatch(anonymous.body, /kubelet_/);

    await h.kubectl('create', 'serviceaccount', 'scraper');
    const token = (await h.kubectl('create', 'token', 'scraper')).trim();
    const bearer = ['-H', `Authorization: Bearer ${token}`];
    const denied = await curl(`${base}/metrics`, ...bearer);
    assert.equal(denied.code, 403, denied.body);
    assert.match(denied.body, /^Forbidden \(user=system:serviceaccount:default:scraper, verb=get, resource=nodes, subresource\(s\)=\[metrics\]\)/);
    // Through the control plane her token is refused nodes/proxy.
    const kubeconfig = YAML.parse(readFileSync(h.kubeconfigPath, 'utf8')) as { users: Array<{ user: Record<string, unknown> }> };
    for (const u of kubeconfig.users) u.user = { token };
    const scraperKubeconfig = join(dir, 'scraper.kubeconfig');
    writeFileSync(scraperKubeconfig, YAML.stringify(kubeconfig), { mode: 0o600 });
    await assert.rejects(execFileAsync('kubectl', ['--kubeconfig', scraperKubeconfig, 'get', '--raw', proxyMetrics], { timeout: 30_000 }),
      (err: { stderr?: string }) => /Forbidden|forbidden/.test(err.stderr ?? ''));

    // nodes/proxy is not nodes/metrics: the node API still refuses.
    await h.kubectl('create', 'clusterrole', 'node-proxier', '--verb=get', '--resource=nodes/proxy');
    await h.kubectl('create', 'clusterrolebinding', 'scraper-proxy', '--clusterrole=node-proxier', `--serviceaccount=${namespace}:scraper`);
    const podsAllowed = await pollFor(async () => ((await curl(`${base}/pods`, ...bearer)).code === 200 ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 250, what: 'the proxy binding to reach the node API' });
    assert.ok(podsAllowed);
    assert.equal((await curl(`${base}/metrics`, ...bearer)).code, 403, 'nodes/proxy does not grant /metrics');

    await h.kubectl('create', 'clusterrole', 'metrics-reader', '--verb=get', '--resource=nodes/metrics');
    await h.kubectl('create', 'clusterrolebinding', 'scraper-metrics', '--clusterrole=metrics-reader', `--serviceaccount=${namespace}:scraper`);
    const allowed = await pollFor(async () => {
      const a = await curl(`${base}/metrics`, ...bearer);
      return a.code === 200 ? a : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, what: 'nodes/metrics to let the token scrape' });
    assert.equal(parseExposition(allowed.body).value('kubelet_node_name', { node: h.nodeName }), 1);
  });
});
