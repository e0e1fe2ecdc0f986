// The agent, composed. startAgent is a numbered list of steps, each a named function below:
// first what a pod will need (the API server, network and devices, the runtime, the node), then
// the pod's own path:
//   sources (API watch + static files) → registry → wakes (+ PLEG, retries, resync, volumes, probes)
//   → pod workers (syncPerKey) → podWorkerSync → runtime manager → status manager → API server
// Alongside: the node controller (Node, Lease, node status), healthz and the node API server.
// One metrics registry per agent (src/agent/metrics/), made in step 1: the CRI client, the
// executor, PLEG and the pod workers report to it; the node API serves it on /metrics.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig, V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Subject, filter, interval, map, merge, mergeMap, type Observable, from, EMPTY } from 'rxjs';
import type { SandboxNetwork } from '../cni/sandbox-network.ts';
import type { PodRuntime, RuntimePodStatus, SyncContext } from '../cri/runtime-manager/pod-runtime.ts';
import type { ContainerDevices } from '../device/container-devices.ts';
import type { ActivePod } from '../device/device-manager.ts';
import type { PodVolumeManager } from '../volume/pod-volumes.ts';
import { generatePodStatus } from './pod-status/generate-pod-status.ts';
import { apiThrottle } from './api/api-rate-limit.ts';
import { createKubeApi, type KubeApi } from './api/kube-api.ts';
import { loadKubeconfigFile } from './api/kubeconfig.ts';
import { clientCertificateManager, ensureClientCredentials } from './certificates/client-bootstrap.ts';
import { currentPemPath } from './certificates/certificate-files.ts';
import { csrApprovalTimeoutMs } from './certificates/certificate-manager.ts';
import { heldServingCertificate, servingCertificateManager } from './certificates/serving-certificate-rotation.ts';
import type { AgentConfig } from './config/agent-config.ts';
import { createEventRecorder, discardEvents } from './events/event-recorder.ts';
import { firstNonLoopbackIPv4 } from './node/machine-facts.ts';
import { computeLocalNode, startNodeController, type NodeController } from './node/node-controller.ts';
import { eventedPodLifecycleEvents, type ContainerEventSource } from './pleg/evented-pleg.ts';
import { eventedPlegMetrics } from './pleg/evented-pleg-metrics.ts';
import { CriClient } from '../cri/client.ts';
import { snapshotOf } from './pleg/pleg-diff.ts';
import { PodStatusCache } from './pleg/pod-status-cache.ts';
import { createPodRuntime } from './runtime-factory.ts';
import { startDevices, startNetwork } from './plugins.ts';
import { startHealthzServer, type RunningServer } from './server/healthz-server.ts';
import { nodeApiAuth } from './server/auth/node-api-auth.ts';
import { loadServingCertificate } from './server/auth/serving-certificate.ts';
import { startNodeApiServer, type RunningNodeApiServer } from './server/node-api-server.ts';
import { createStatsProvider } from './stats/stats-provider.ts';
import { kubeletConfigz } from './stats/configz.ts';
import { apiPodSource } from './sources/api-pod-source.ts';
import { deleteMirrorPod } from './sources/mirror-pods.ts';
import { isMirrorPod, type PodUpdate } from './sources/pod-update.ts';
import { podFullName } from '../pod/pod-ref.ts';
import { staticPodSource } from './sources/static-pod-source.ts';
import { startServiceCache, type ServiceCache } from './sources/service-cache.ts';
import { StatusManager } from './status/status-manager.ts';
import { runPeriodically } from './util/periodic.ts';
import { PodRegistry } from './workers/pod-registry.ts';
import { createPodWorker, type GeneratePodStatus, type PodWorkerOutcome } from './workers/pod-worker.ts';
import { isTerminalPhase } from '../pod/phase.ts';
import { podLogFields } from '../pod/pod-ref.ts';
import { withPodLogScope } from '../pod/pod-log-scope.ts';
import { syncPerKey } from './workers/sync-per-key.ts';
import { FailureBackoff } from './workers/failure-backoff.ts';
import { VolumeStep } from './workers/volume-step.ts';
import { createVolumeManager } from '../volume/volume-manager.ts';
import { sysctlAllowlist } from './admission/sysctls.ts';
import { createProberManager, type ProberManager } from './prober/prober-manager.ts';
import { createAgentMetrics, type AgentMetrics } from './metrics/agent-metrics.ts';
import type { PodTimelines } from '../trace/pod-timeline.ts';
import { startTracing, type AgentTracing } from '../trace/tracing.ts';
import { podIdentityOf } from '../trace/span-attributes.ts';

export interface AgentDeps {
  logger: Logger;
  /** Defaults to the GenericRuntime manager on config.containerRuntimeEndpoint. */
  runtime?: PodRuntime;
  /** Default: per config.networkMode (runtime: the runtime's own CNI; agent: the CNI network manager). */
  /** The API server; defaults to config.kubeconfig (none: standalone, static pods only). */
  kubeConfig?: KubeConfig;
  network?: SandboxNetwork;
  /** Default: the device plugin manager on config.devicePluginDir. */
  devices?: ContainerDevices;
  /** Default: the volume manager under config.rootDir. */
  volumes?: PodVolumeManager;
  generatePodStatus?: GeneratePodStatus;
  /** The runtime's container events (evented PLEG). Default: GetContainerEvents on
   * config.containerRuntimeEndpoint, unless `runtime` is given (then none: the 1 s relist alone). */
  containerEvents?: ContainerEventSource;
  /** The pods' timelines the node API shows at /debug/pods (src/trace/). Default: the agent's own
   * buffer (src/trace/timeline-buffer.ts); none with --pod-timelines=false: no such routes. */
  timelines?: PodTimelines;
}

export interface RunningAgent {
  nodeName: string;
  /** Actual ports (config may have asked for 0 = ephemeral). */
  port: number;
  healthzPort: number;
  /** The node API's serving certificate chain and its file; clients that verify it trust this. */
  servingCertificate: { certPem: string; certFile: string };
  registry: PodRegistry;
  runtime: PodRuntime;
  /** Resolves once the pods known at startup are in the registry and orphans were removed. */
  ready: Promise<void>;
  /** The pods' recent timelines the node API serves (deps.timelines, else the agent's own buffer;
   * undefined with --pod-timelines=false). */
  timelines: PodTimelines | undefined;
  /** Kill and remove every pod the runtime holds, and every pod's volumes (dev shutdown leaves nothing behind). */
  removeAllPods(): Promise<void>;
  stop(): Promise<void>;
}

/** What the steps share: made in step 1, filled in as the steps go. */
interface Composition {
  config: AgentConfig;
  deps: AgentDeps;
  logger: Logger;
  registry: PodRegistry;
  api: KubeApi | undefined;
  /** The credentials api uses (undefined: standalone). */
  kubeConfig: KubeConfig | undefined;
  statusManager: StatusManager;
  /** This agent's own registry (never prom-client's global one). */
  metrics: AgentMetrics;
  stoppers: Array<() => Promise<void>>;
  /** Set by step 5; device plugins may report before it exists. */
  nodeController?: NodeController;
  stopping: boolean;
  /** Root spans of each pod's journey, and the timeline buffer (src/trace/); noTracing when both are off. */
  tracing: AgentTracing;
  /** What the node API shows at /debug/pods: deps.timelines, else the tracing's own buffer. */
  timelines: PodTimelines | undefined;
}

export async function startAgent(config: AgentConfig, deps: AgentDeps): Promise<RunningAgent> {
  // 1. The node's credentials (TLS bootstrap by CSR when it has none yet, renewed before they
  //    expire), the API server (none: standalone, static pods only) and the status manager.
  if (!deps.kubeConfig) await ensureCredentials(config, deps.logger);
  //    Tracing first, so the status manager's patches are spans of their pods.
  const tracing = await startTracing({ ...config.tracing, podTimelines: config.podTimelines }, config.nodeName, deps.logger.child({ node: config.nodeName }));
  const c = connectToApiServer(config, deps, tracing);
  c.stoppers.push(() => tracing.shutdown());
  rotateClientCertificate(c);
  // 2. What pods plug into: the network (agent mode) and device plugins.
  const network = deps.network ?? await startPodNetwork(c);
  const devices = deps.devices ? { devices: deps.devices } : await startDevicePlugins(c);
  // 3. The container runtime, through the GenericRuntime manager.
  const runtime = deps.runtime ?? createPodRuntime(config, network, devices.devices, c.logger, c.metrics, () => c.registry.uids());
  c.stoppers.push(async () => runtime.close?.());
  const hostIP = config.nodeIP ?? firstNonLoopbackIPv4() ?? '127.0.0.1';
  const runtimeName = await runtime.info().then((i) => i.runtimeName, () => undefined);
  // 4. Serving: healthz and the node API (which lists pods and serves their logs).
  const servers = await startServers(c, hostIP, runtime);
  // 5. The node: registered on the API server, or computed locally in standalone mode.
  const node = await startNode(c, runtime, devices.devices, () => servers.nodeApi.port);
  // 6. The pod worker's one sync, with volumes before containers and the prober beside it, and the
  //    cluster's Services for the containers' service variables.
  const volumeManager = deps.volumes ?? createVolumeManager({ rootDir: config.rootDir, sources: c.api, nodeName: config.nodeName, logger: c.logger });
  c.stoppers.push(() => volumeManager.stop());
  const events = c.api ? createEventRecorder(c.api, config.nodeName, c.logger) : discardEvents;
  const prober = createProberManager({ exec: (id, cmd, timeout) => runtime.execInContainer(id, cmd, timeout), events, logger: c.logger, tracing: c.tracing });
  c.stoppers.push(async () => prober.stop());
  const services = startServices(c);
  // The runtime pod cache: PLEG's relists keep it honest, so workers read the runtime only after a change.
  const statusCache = new PodStatusCache((uid, name, namespace, known) => runtime.getPodStatus(uid, name, namespace, known));
  const podWorkerSync = createPodWorker({
    statusCache,
    registry: c.registry, runtime, devices: devices.devices, network, statusManager: c.statusManager, api: c.api, logger: c.logger,
    events, prober,
    syncContext: { ...syncContextOf(c, hostIP, services), probeResults: prober.results },
    volumes: new VolumeStep(volumeManager, c.logger),
    sysctls: sysctlAllowlist(config.allowedUnsafeSysctls),
    node: node.current,
    hostIP: () => hostIP,
    runtimeName: () => runtimeName,
    generatePodStatus: deps.generatePodStatus ?? generatePodStatus,
    metrics: c.metrics,
    tracing: c.tracing,
  });
  // 7. Where pods come from: static files, then the API server's watch.
  const sources = podSources(c);
  // 8. Adoption: what the runtime held at startup; known pods are adopted by their first sync.
  const startupRelist = statusCache.relistStarted();
  const startupPods = await runtime.relist().then((pods) => {
    statusCache.relisted(startupRelist, snapshotOf(pods));
    return pods;
  }, (err) => {
    c.logger.warn({ err }, 'startup relist failed');
    return [];
  });
  // 9. Wakes → pod workers: one sync per pod at a time, retried with backoff.
  const workers = runPodWorkers(c, sources.updates, runtime, startupPods, statusCache, volumeManager, prober, podWorkerSync);
  // 10. Once every source has listed: remove what no source knows (pods, devices, volumes).
  const ready = sources.synced.then(() => removeOrphans(c, runtime, startupPods, devices.reconcile, volumeManager)).catch((err) => {
    // Nobody may be awaiting `ready`: a rejection here would be unhandled and end the process.
    c.logger.warn({ err }, 'startup cleanup failed');
  });
  // 11. Garbage collection of dead containers and unknown sandboxes.
  const stopGc = runPeriodically('garbage-collect', config.intervals.garbageCollectMs,
    () => runtime.garbageCollect(c.registry.uids()), c.logger, false);

  c.logger.info({ port: servers.nodeApi.port, healthzPort: servers.healthz.port, hostIP, runtime: runtimeName, standalone: !c.api }, 'agent started');

  return {
    nodeName: config.nodeName,
    port: servers.nodeApi.port,
    healthzPort: servers.healthz.port,
    servingCertificate: { certPem: servers.serving.certPem, certFile: servers.serving.certFile },
    registry: c.registry,
    runtime,
    ready,
    timelines: c.timelines,
    async removeAllPods() {
      for (const p of await runtime.relist()) {
        await withPodLogScope(podLogFields(p), () => runtime.killPod({ uid: p.uid, name: p.name, namespace: p.namespace }, p, 0, true))
          .catch((err) => c.logger.warn({ uid: p.uid, err: String(err) }, 'pod removal failed'));
      }
      await volumeManager.removeOrphans(new Set());
    },
    async stop() {
      if (c.stopping) return;
      c.stopping = true;
      workers.stop();
      await Promise.all([stopGc(), node.stop?.(), c.nodeController?.stop()]);
      await Promise.race([c.statusManager.flush(), new Promise((r) => setTimeout(r, 2000))]);
      c.statusManager.stop();
      await Promise.all([servers.healthz.close(), servers.nodeApi.close(), ...c.stoppers.map((stop) => stop())]);
      c.logger.info('agent stopped');
    },
  };
}

function certDirOf(config: AgentConfig): string {
  return config.certDir ?? join(config.rootDir, 'pki');
}

async function ensureCredentials(config: AgentConfig, logger: Logger): Promise<void> {
  if (!config.kubeconfig || !config.bootstrapKubeconfig) return;
  await ensureClientCredentials({
    kubeconfig: config.kubeconfig, bootstrapKubeconfig: config.bootstrapKubeconfig, certDir: certDirOf(config),
    nodeName: config.nodeName, approvalTimeoutMs: csrApprovalTimeoutMs, logger: logger.child({ node: config.nodeName }),
  });
}

/** --rotate-certificates: renews the client certificate the kubeconfig names, when it is the one in --cert-dir. */
function rotateClientCertificate(c: Composition): void {
  const { config, logger } = c;
  if (!config.rotateCertificates || !config.kubeconfig || !c.kubeConfig) return;
  const pemPath = currentPemPath(certDirOf(config), 'kubelet-client');
  if (c.kubeConfig.getCurrentUser()?.certFile !== pemPath) {
    logger.warn({ kubeconfig: config.kubeconfig, expected: pemPath }, '--rotate-certificates: the kubeconfig\'s client certificate is not the one in --cert-dir; it is not renewed');
    return;
  }
  const manager = clientCertificateManager({ certDir: certDirOf(config), nodeName: config.nodeName, approvalTimeoutMs: csrApprovalTimeoutMs, logger });
  // Renewals are filed as the node itself (system:node:<name>), reading the current certificate
  // file on each request: once it is replaced, new connections use the new one.
  const kubeConfig = c.kubeConfig;
  manager.start(() => kubeConfig);
  c.stoppers.push(async () => manager.stop());
}

function connectToApiServer(config: AgentConfig, deps: AgentDeps, tracing: AgentTracing): Composition {
  const logger = deps.logger.child({ node: config.nodeName });
  mkdirSync(config.rootDir, { recursive: true });
  const kubeConfig = deps.kubeConfig ?? (config.kubeconfig ? loadKubeconfigFile(config.kubeconfig) : undefined);
  const api: KubeApi | undefined = kubeConfig
    ? createKubeApi(kubeConfig, {
      onWatchError: (what, err) => logger.debug({ what, err }, 'watch failed; retrying'),
      throttle: apiThrottle(config.kubeAPIQPS, config.kubeAPIBurst),
    })
    : undefined;
  if (!api) logger.info('no --kubeconfig: standalone mode, static pods only');
  return { config, deps, logger, registry: new PodRegistry(), api, kubeConfig, statusManager: new StatusManager(api, logger, { tracing }),
    metrics: createAgentMetrics(config.nodeName), stoppers: [], stopping: false, tracing, timelines: deps.timelines ?? tracing.timelines };
}

async function startPodNetwork(c: Composition): Promise<SandboxNetwork> {
  const started = await startNetwork(c.config, async (ns, name, uid) => {
    const r = c.registry.get(uid);
    return r && r.pod.metadata?.namespace === ns && r.pod.metadata?.name === name ? r.pod : undefined;
  }, c.logger);
  c.stoppers.push(started.stop);
  return started.network;
}

async function startDevicePlugins(c: Composition): Promise<{ devices: ContainerDevices; reconcile?: (uids: Set<string>) => Promise<void> }> {
  // PodResources reports the pods that hold or may hold devices: admitted and not yet finished.
  const activePods = (): ActivePod[] => c.registry.all()
    .filter((r) => !r.removed && r.admission?.admitted !== false && !isTerminalPhase(c.statusManager.latest(r.uid)?.phase ?? r.pod.status?.phase))
    .map((r) => ({
      uid: r.uid, name: r.pod.metadata!.name!, namespace: r.pod.metadata!.namespace ?? 'default', containers: (r.pod.spec?.containers ?? []).map((ct) => ct.name),
    }));
  const started = await startDevices(c.config, activePods, () => c.nodeController?.refresh(), c.logger);
  c.stoppers.push(started.stop);
  return { devices: started.devices, ...(started.reconcile ? { reconcile: started.reconcile } : {}) };
}

async function startServers(c: Composition, hostIP: string, runtime: PodRuntime): Promise<{ healthz: RunningServer; nodeApi: RunningServer; serving: { certPem: string; certFile: string } }> {
  const { config, logger } = c;
  const podsForApi = () => c.registry.all().filter((r) => !r.removed).map((r) => ({ ...r.pod, status: c.statusManager.latest(r.uid) ?? r.pod.status }));
  const healthz = await startHealthzServer(config.healthzPort, config.healthzBindAddress, () => !c.stopping);
  const servingHosts = [hostIP, 'localhost', '127.0.0.1'];
  const byCsr = config.rotateServerCertificates ? heldServingCertificate(certDirOf(config), config.nodeName, servingHosts) : undefined;
  const serving = byCsr ? { ...byCsr, origin: 'csr' } : await loadServingCertificate({
    tlsCertFile: config.tlsCertFile,
    tlsPrivateKeyFile: config.tlsPrivateKeyFile,
    certDir: certDirOf(config),
    nodeName: config.nodeName,
    hosts: servingHosts,
  });
  logger.info({ certFile: serving.certFile, origin: serving.origin }, 'node API serving certificate');
  const auth = nodeApiAuth(config, c.api, logger.child({ component: 'node-api' }));
  const stats = createStatsProvider({
    nodeName: config.nodeName, rootDir: config.rootDir, runtime, pods: podsForApi,
    onError: (what, err) => logger.debug({ err, what }, 'stats: a figure could not be read'),
  });
  const nodeApi = await startNodeApiServer({
    port: config.port,
    host: config.address,
    nodeName: config.nodeName,
    tls: { certPem: serving.certPem, keyPem: serving.keyPem, clientCaPem: auth.clientCaPem },
    authenticate: auth.authenticate,
    authorize: auth.authorize,
    pods: podsForApi,
    streamingUrl: (req) => runtime.streamingUrl(req),
    podLogsDir: config.podLogsDir,
    healthy: () => !c.stopping,
    metrics: () => c.metrics.render(),
    statsSummary: () => stats.summary(),
    resourceMetrics: () => stats.resourceMetrics(),
    configz: () => kubeletConfigz(config),
    // The span recorder's bounded buffer (src/trace/); undefined-safe: without one, no /debug/pods routes.
    timelines: c.timelines,
    logger: logger.child({ component: 'node-api' }),
  });
  if (config.rotateServerCertificates) rotateServingCertificate(c, servingHosts, nodeApi, !byCsr);
  return { healthz, nodeApi, serving };
}

/** --rotate-server-certificates: the serving certificate by CSR (now, when there is none yet), renewed before it expires. */
function rotateServingCertificate(c: Composition, hosts: string[], nodeApi: RunningNodeApiServer, needsOne: boolean): void {
  const { config, logger, kubeConfig } = c;
  if (!kubeConfig) {
    logger.warn('--rotate-server-certificates needs an API server (--kubeconfig); the node serves its self-signed certificate');
    return;
  }
  const manager = servingCertificateManager({
    certDir: certDirOf(config), nodeName: config.nodeName, hosts, approvalTimeoutMs: csrApprovalTimeoutMs, logger,
    onRenewed: (held) => {
      nodeApi.setServingCertificate(held.certPem, held.keyPem);
      logger.info({ notAfter: held.notAfter.toISOString() }, 'node API now serves the certificate issued by CSR');
    },
  });
  manager.start(() => kubeConfig, { now: needsOne });
  c.stoppers.push(async () => manager.stop());
}

async function startNode(c: Composition, runtime: PodRuntime, devices: ContainerDevices, kubeletPort: () => number): Promise<{ current: () => V1Node; stop?: () => Promise<void> }> {
  const nodeDeps = { runtime, devices, config: c.config, logger: c.logger, kubeletPort };
  let localNode: V1Node = await computeLocalNode(nodeDeps);
  const stop = c.api ? undefined : runPeriodically('local-node', c.config.intervals.nodeStatusUpdateMs, async () => {
    localNode = await computeLocalNode(nodeDeps);
  }, c.logger, false);
  if (c.api) c.nodeController = await startNodeController({ ...nodeDeps, api: c.api });
  // Device plugins may have reported before the controller existed; post their resources now.
  c.nodeController?.refresh();
  return { current: () => c.nodeController?.current() ?? localNode, ...(stop ? { stop } : {}) };
}

/** Every Service of the cluster (list + watch), for the containers' service variables; none in standalone mode. */
function startServices(c: Composition): ServiceCache | undefined {
  if (!c.api) return undefined;
  const cache = startServiceCache(c.api, c.logger.child({ component: 'services' }));
  c.stoppers.push(async () => cache.stop());
  return cache;
}

function syncContextOf(c: Composition, hostIP: string, services: ServiceCache | undefined): SyncContext {
  const { api } = c;
  return {
    nodeName: c.config.nodeName,
    hostIP,
    getSecret: async (ns, name) => api?.getSecret(ns, name),
    getConfigMap: async (ns, name) => api?.getConfigMap(ns, name),
    ...(services ? { services: (pod) => services.servicesFor(pod) } : {}),
    resolveRuntimeHandler: async (name) => api?.getRuntimeClassHandler(name),
  };
}

const WATCH_EVENT: Record<PodUpdate['op'], string> = { ADD: 'ADDED', UPDATE: 'MODIFIED', DELETE: 'DELETED' };

/** The merged pod updates (applied to the registry: UIDs to wake), and when the API has listed. */
function podSources(c: Composition): { updates: Observable<string>; synced: Promise<void> } {
  const { config, api, logger, registry } = c;
  let markApiSynced!: () => void;
  const synced = new Promise<void>((resolve) => (markApiSynced = resolve));
  const sources: Observable<PodUpdate>[] = [];
  // Static files first: their pods must be known before mirror pods arrive.
  if (config.podManifestPath) sources.push(staticPodSource(config.podManifestPath, config.nodeName, config.intervals.staticPodRescanMs, logger));
  if (api) sources.push(apiPodSource(api, config.nodeName, logger, { onSynced: markApiSynced }));
  else markApiSynced();
  const updates = merge(...sources).pipe(
    mergeMap((update) => {
      if (api && isMirrorPod(update.pod) && update.op !== 'DELETE' && !registry.all().some((r) => r.source === 'file' && !r.removed && podFullName(r.pod) === podFullName(update.pod))) {
        // A mirror pod whose static pod is gone (removed while the agent was down).
        void deleteMirrorPod(api, update.pod).catch(() => {});
      }
      // One bad update must not end the stream every pod's sync hangs on.
      try {
        // The watch event (or list item, or static file change) is the first span of the pod's timeline.
        const uid = c.tracing.podRoot('pod.watch', podIdentityOf(update.pod), { 'k8s.watch.event': WATCH_EVENT[update.op], 'pod.source': update.source },
          () => registry.apply(update));
        // As the kubelet's "SyncLoop ADD/UPDATE/DELETE": where a reader following one pod starts.
        logger.debug({ pod: podFullName(update.pod), uid: update.pod.metadata?.uid, event: WATCH_EVENT[update.op], source: update.source, wakes: Boolean(uid) }, 'pod watch event');
        return uid ? [uid] : EMPTY;
      } catch (err) {
        logger.error({ err, op: update.op, source: update.source, pod: podFullName(update.pod) }, 'pod update could not be applied; skipped');
        return EMPTY;
      }
    }),
  );
  return { updates, synced };
}

/** Every reason a pod wakes (its source, PLEG, a retry, the resync, a volume refresh, a probe verdict), through the
 * pod workers; a failed sync retries after a backoff, a sync that asks for one after its delay. */
function runPodWorkers(
  c: Composition, fromSources: Observable<string>, runtime: PodRuntime, startupPods: RuntimePodStatus[], statusCache: PodStatusCache,
  volumeManager: PodVolumeManager, prober: ProberManager, podWorkerSync: (uid: string) => Promise<PodWorkerOutcome>,
): { stop: () => void } {
  const { config, logger, registry } = c;
  const backoff = new FailureBackoff(config.intervals.syncErrorBackoffMs, config.intervals.syncErrorBackoffMaxMs);
  const retries = new Subject<string>();
  const retryTimers = new Map<string, NodeJS.Timeout>();
  const scheduleRetry = (uid: string, ms: number | undefined) => {
    clearTimeout(retryTimers.get(uid));
    retryTimers.delete(uid);
    if (ms === undefined || c.stopping || !registry.get(uid)) return;
    retryTimers.set(uid, setTimeout(() => retries.next(uid), ms));
  };
  const fromPleg = eventedPodLifecycleEvents(runtime, logger, {
    relistPeriodMs: config.intervals.plegRelistMs, eventedRelistPeriodMs: config.intervals.eventedPlegRelistMs,
    containerEvents: containerEventSource(c), eventedMetrics: eventedPlegMetrics(c.metrics.registry),
    initial: snapshotOf(startupPods), metrics: c.metrics, cache: statusCache,
  })
    .pipe(filter((uid) => registry.get(uid) !== undefined));
  const fromResync = interval(config.intervals.resyncMs).pipe(mergeMap(() => from(registry.all().map((r) => r.uid))));
  const fromVolumes = volumeManager.refreshes.pipe(filter((uid) => registry.get(uid) !== undefined));
  const fromProbes = prober.changes.pipe(filter((uid) => registry.get(uid) !== undefined));

  const subscription = merge(fromSources, fromPleg, retries, fromResync, fromVolumes, fromProbes).pipe(
    syncPerKey((uid: string) => uid, podWorkerSync, config.maxParallelSyncs, (err, uid) => {
      const delayMs = backoff.failed(uid);
      logger.warn({ uid, err, retryInMs: delayMs }, 'pod sync failed');
      scheduleRetry(uid, delayMs);
    }),
    map((outcome: PodWorkerOutcome) => {
      if (!outcome.failed) backoff.succeeded(outcome.uid);
      const delayMs = outcome.retryAfterMs ?? (outcome.failed ? backoff.failed(outcome.uid) : undefined);
      scheduleRetry(outcome.uid, delayMs);
    }),
  ).subscribe({ error: (err) => logger.error({ err }, 'pod sync pipeline stopped') });
  return {
    stop() {
      subscription.unsubscribe();
      for (const t of retryTimers.values()) clearTimeout(t);
    },
  };
}

/** GetContainerEvents on a CRI client of its own (closed when the agent stops), unless the runtime was injected. */
function containerEventSource(c: Composition): ContainerEventSource | undefined {
  if (c.deps.runtime) return c.deps.containerEvents;
  const client = CriClient.connect(c.config.containerRuntimeEndpoint, { logger: c.logger });
  c.stoppers.push(async () => client.close());
  return (opts) => client.containerEvents(opts);
}

/** Pods, devices and volumes that no source knows: deleted while the agent was down. */
async function removeOrphans(
  c: Composition, runtime: PodRuntime, startupPods: RuntimePodStatus[],
  reconcileDevices: ((uids: Set<string>) => Promise<void>) | undefined, volumeManager: PodVolumeManager,
): Promise<void> {
  const { logger, registry } = c;
  for (const p of startupPods) {
    if (registry.get(p.uid)) continue;
    logger.info(podLogFields(p), 'removing pod unknown to every source (deleted while the agent was down)');
    const removal = await withPodLogScope(podLogFields(p), () => runtime.killPod({ uid: p.uid, name: p.name, namespace: p.namespace }, p, 0, true))
      .catch((err) => ({ failures: [{ step: 'kill', reason: 'KillPodError', message: String(err) }] }));
    // The garbage collector removes what is left of an orphan whose removal failed.
    if (removal.failures.length) logger.warn({ ...podLogFields(p), failures: removal.failures }, 'orphan removal failed');
  }
  await reconcileDevices?.(registry.uids());
  // Their containers are gone now: so may their volumes be (tmpfs unmounted, directories removed).
  const orphans = await volumeManager.removeOrphans(registry.uids());
  if (orphans.length) logger.info({ uids: orphans }, 'removed the volumes of pods unknown to every source');
}
