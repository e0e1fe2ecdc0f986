// The agent, composed: every part wired to the next, in the order a pod travels.
//   sources (API watch + static files) → registry → sync requests (+ PLEG, retries, resync)
//   → pod workers (syncPerKey) → syncPod → runtime manager → status manager → API server
// Alongside: the node controller (Node, Lease, node status), healthz and the node API server.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig, V1Node } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Subject, filter, interval, map, merge, mergeMap, type Observable, type Subscription, from, EMPTY } from 'rxjs';
import type { SandboxNetwork } from '../cni/sandbox-network.ts';
import type { PodRuntime, SyncContext } from '../cri/runtime-manager/pod-runtime.ts';
import type { ContainerDevices } from '../device/container-devices.ts';
import type { PodVolumeManager } from '../volume/pod-volumes.ts';
import { generatePodStatus } from './pod-status/generate-pod-status.ts';
import { createKubeApi, type KubeApi } from './api/kube-api.ts';
import { loadKubeconfigFile } from './api/kubeconfig.ts';
import type { AgentConfig } from './config/agent-config.ts';
import { createEventRecorder, discardEvents } from './events/event-recorder.ts';
import { firstNonLoopbackIPv4 } from './node/machine-facts.ts';
import { computeLocalNode, startNodeController, type NodeController } from './node/node-controller.ts';
import { podLifecycleEvents } from './pleg/pleg.ts';
import { snapshotOf } from './pleg/pleg-diff.ts';
import { createPodRuntime } from './runtime-factory.ts';
import { startDevices, startNetwork } from './plugins.ts';
import { startHealthzServer, type RunningServer } from './server/healthz-server.ts';
import { nodeApiAuth } from './server/auth/node-api-auth.ts';
import { loadServingCertificate } from './server/auth/serving-certificate.ts';
import { startNodeApiServer } from './server/node-api-server.ts';
import { apiPodSource } from './sources/api-pod-source.ts';
import { deleteMirrorPod } from './sources/mirror-pods.ts';
import { isMirrorPod, podFullName, type PodUpdate } from './sources/pod-update.ts';
import { staticPodSource } from './sources/static-pod-source.ts';
import { StatusManager } from './status/status-manager.ts';
import { runPeriodically } from './util/periodic.ts';
import { PodRegistry } from './workers/pod-registry.ts';
import { createPodSyncer, isTerminal, type GeneratePodStatus, type PodSyncOutcome } from './workers/sync-pod.ts';
import { syncPerKey } from './workers/sync-per-key.ts';
import { FailureBackoff } from './workers/failure-backoff.ts';
import { VolumeStep } from './workers/volume-step.ts';
import { createVolumeManager } from '../volume/volume-manager.ts';

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
  /** Kill and remove every pod the runtime holds, and every pod's volumes (dev shutdown leaves nothing behind). */
  removeAllPods(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAgent(config: AgentConfig, deps: AgentDeps): Promise<RunningAgent> {
  const logger = deps.logger.child({ node: config.nodeName });
  mkdirSync(config.rootDir, { recursive: true });
  const registry = new PodRegistry();
  const kubeConfig = deps.kubeConfig ?? (config.kubeconfig ? loadKubeconfigFile(config.kubeconfig) : undefined);
  const api: KubeApi | undefined = kubeConfig
    ? createKubeApi(kubeConfig, { onWatchError: (what, err) => logger.debug({ what, err }, 'watch failed; retrying') })
    : undefined;
  if (!api) logger.info('no --kubeconfig: standalone mode, static pods only');
  const statusManager = new StatusManager(api, logger);
  let nodeController: NodeController | undefined;
  const stoppers: Array<() => Promise<void>> = [];
  let network = deps.network;
  if (!network) {
    const started = await startNetwork(config, async (ns, name, uid) => {
      const r = registry.get(uid);
      return r && r.pod.metadata?.namespace === ns && r.pod.metadata?.name === name ? r.pod : undefined;
    }, logger);
    network = started.network;
    stoppers.push(started.stop);
  }
  let devices = deps.devices;
  let reconcileDevices: ((uids: Set<string>) => Promise<void>) | undefined;
  if (!devices) {
    // PodResources reports the pods that hold or may hold devices: admitted and not yet finished.
    const activePods = () => registry.all().filter((r) => !r.removed && r.admission?.admitted !== false && !isTerminal(statusManager.latest(r.uid)?.phase ?? r.pod.status?.phase)).map((r) => ({
      uid: r.uid, name: r.pod.metadata!.name!, namespace: r.pod.metadata!.namespace ?? 'default', containers: (r.pod.spec?.containers ?? []).map((c) => c.name),
    }));
    const started = await startDevices(config, activePods, () => nodeController?.refresh(), logger);
    devices = started.devices;
    reconcileDevices = started.reconcile;
    stoppers.push(started.stop);
  }
  const runtime = deps.runtime ?? createPodRuntime(config, network, devices, logger);
  const hostIP = config.nodeIP ?? firstNonLoopbackIPv4() ?? '127.0.0.1';
  const runtimeName = await runtime.info().then((i) => i.runtimeName, () => undefined);

  let stopping = false;
  const podsForApi = () => registry.all().filter((r) => !r.removed).map((r) => ({ ...r.pod, status: statusManager.latest(r.uid) ?? r.pod.status }));
  const healthz = await startHealthzServer(config.healthzPort, config.healthzBindAddress, () => !stopping);
  const serving = await loadServingCertificate({
    tlsCertFile: config.tlsCertFile,
    tlsPrivateKeyFile: config.tlsPrivateKeyFile,
    certDir: join(config.rootDir, 'pki'),
    nodeName: config.nodeName,
    hosts: [hostIP, 'localhost', '127.0.0.1'],
  });
  logger.info({ certFile: serving.certFile, origin: serving.origin }, 'node API serving certificate');
  const auth = nodeApiAuth(config, api, logger.child({ component: 'node-api' }));
  const nodeApi = await startNodeApiServer({
    port: config.port,
    host: config.address,
    nodeName: config.nodeName,
    tls: { certPem: serving.certPem, keyPem: serving.keyPem, clientCaPem: auth.clientCaPem },
    authenticate: auth.authenticate,
    authorize: auth.authorize,
    pods: podsForApi,
    podLogsDir: config.podLogsDir,
    healthy: () => !stopping,
    logger: logger.child({ component: 'node-api' }),
  });

  // The node: registered on the API server, or computed locally in standalone mode.
  const nodeDeps = { runtime, devices, config, logger, kubeletPort: () => nodeApi.port };
  let localNode: V1Node = await computeLocalNode(nodeDeps);
  const stopLocalNode = api ? undefined : runPeriodically('local-node', config.intervals.nodeStatusUpdateMs, async () => {
    localNode = await computeLocalNode(nodeDeps);
  }, logger, false);
  if (api) nodeController = await startNodeController({ ...nodeDeps, api });
  // Device plugins may have reported before the controller existed; post their resources now.
  nodeController?.refresh();
  const currentNode = () => nodeController?.current() ?? localNode;

  const events = api ? createEventRecorder(api, config.nodeName, logger) : discardEvents;
  const syncContext: SyncContext = {
    nodeName: config.nodeName,
    hostIP,
    getSecret: async (ns, name) => api?.getSecret(ns, name),
    getConfigMap: async (ns, name) => api?.getConfigMap(ns, name),
    resolveRuntimeHandler: async (name) => api?.getRuntimeClassHandler(name),
  };
  // Volumes: made before containers, torn down after them; a changed ConfigMap/Secret or a token
  // near expiry wakes the pod (the `refreshes` stream below).
  const volumeManager = deps.volumes ?? createVolumeManager({ rootDir: config.rootDir, sources: api, nodeName: config.nodeName, logger });
  stoppers.push(() => volumeManager.stop());
  const syncPod = createPodSyncer({
    registry, runtime, devices, network, statusManager, events, api, logger, syncContext,
    volumes: new VolumeStep(volumeManager, logger),
    node: currentNode,
    hostIP: () => hostIP,
    runtimeName: () => runtimeName,
    generatePodStatus: deps.generatePodStatus ?? generatePodStatus,
  });

  // Pod sources. Static files first: their pods must be known before mirror pods arrive.
  let markApiSynced!: () => void;
  const apiSynced = new Promise<void>((resolve) => (markApiSynced = resolve));
  const sources: Observable<PodUpdate>[] = [];
  if (config.podManifestPath) sources.push(staticPodSource(config.podManifestPath, config.nodeName, config.intervals.staticPodRescanMs, logger));
  if (api) sources.push(apiPodSource(api, config.nodeName, logger, { onSynced: markApiSynced }));
  else markApiSynced();

  // Adoption: what the runtime held at startup. Known pods are adopted by their first sync
  // (the runtime manager sees the observed state and starts nothing twice); unknown ones go.
  const startupPods = await runtime.relist().catch((err) => {
    logger.warn({ err }, 'startup relist failed');
    return [];
  });

  const backoff = new FailureBackoff(config.intervals.syncErrorBackoffMs, config.intervals.syncErrorBackoffMaxMs);
  const retries = new Subject<string>();
  const retryTimers = new Map<string, NodeJS.Timeout>();
  const scheduleRetry = (uid: string, ms: number | undefined) => {
    clearTimeout(retryTimers.get(uid));
    retryTimers.delete(uid);
    if (ms === undefined || stopping || !registry.get(uid)) return;
    retryTimers.set(uid, setTimeout(() => retries.next(uid), ms));
  };

  const fromSources = merge(...sources).pipe(
    mergeMap((update) => {
      if (api && isMirrorPod(update.pod) && update.op !== 'DELETE' && !registry.all().some((r) => r.source === 'file' && !r.removed && podFullName(r.pod) === podFullName(update.pod))) {
        // A mirror pod whose static pod is gone (removed while the agent was down).
        void deleteMirrorPod(api, update.pod).catch(() => {});
      }
      // One bad update must not end the stream every pod's sync hangs on.
      try {
        const uid = registry.apply(update);
        return uid ? [uid] : EMPTY;
      } catch (err) {
        logger.error({ err, op: update.op, source: update.source, pod: podFullName(update.pod) }, 'pod update could not be applied; skipped');
        return EMPTY;
      }
    }),
  );
  const fromPleg = podLifecycleEvents(runtime, logger, { periodMs: config.intervals.plegRelistMs, initial: snapshotOf(startupPods) })
    .pipe(filter((uid) => registry.get(uid) !== undefined));
  const fromResync = interval(config.intervals.resyncMs).pipe(mergeMap(() => from(registry.all().map((r) => r.uid))));
  const fromVolumes = volumeManager.refreshes.pipe(filter((uid) => registry.get(uid) !== undefined));

  const subscriptions: Subscription[] = [];
  subscriptions.push(merge(fromSources, fromPleg, retries, fromResync, fromVolumes).pipe(
    syncPerKey((uid: string) => uid, syncPod, config.maxParallelSyncs, (err, uid) => {
      const delayMs = backoff.failed(uid);
      logger.warn({ uid, err, retryInMs: delayMs }, 'pod sync failed');
      scheduleRetry(uid, delayMs);
    }),
    map((outcome: PodSyncOutcome) => {
      if (!outcome.failed) backoff.succeeded(outcome.uid);
      const delayMs = outcome.retryAfterMs ?? (outcome.failed ? backoff.failed(outcome.uid) : undefined);
      scheduleRetry(outcome.uid, delayMs);
    }),
  ).subscribe({ error: (err) => logger.error({ err }, 'pod sync pipeline stopped') }));

  const ready = apiSynced.then(async () => {
    for (const p of startupPods) {
      if (registry.get(p.uid)) continue;
      logger.info({ pod: `${p.namespace}/${p.name}`, uid: p.uid }, 'removing pod unknown to every source (deleted while the agent was down)');
      await runtime.killPod({ uid: p.uid, name: p.name, namespace: p.namespace }, p, 0, true)
        .catch((err) => logger.warn({ uid: p.uid, err: String(err) }, 'orphan removal failed'));
    }
    await reconcileDevices?.(registry.uids());
    // Their containers are gone now: so may their volumes be (tmpfs unmounted, directories removed).
    const orphans = await volumeManager.removeOrphans(registry.uids());
    if (orphans.length) logger.info({ uids: orphans }, 'removed the volumes of pods unknown to every source');
  }).catch((err) => {
    // Nobody may be awaiting `ready`: a rejection here would be unhandled and end the process.
    logger.warn({ err }, 'startup cleanup failed');
  });
  const stopGc = runPeriodically('garbage-collect', config.intervals.garbageCollectMs,
    () => runtime.garbageCollect(registry.uids()), logger, false);

  logger.info({ port: nodeApi.port, healthzPort: healthz.port, hostIP, runtime: runtimeName, standalone: !api }, 'agent started');

  return {
    nodeName: config.nodeName,
    port: nodeApi.port,
    healthzPort: healthz.port,
    servingCertificate: { certPem: serving.certPem, certFile: serving.certFile },
    registry,
    runtime,
    ready,
    async removeAllPods() {
      for (const p of await runtime.relist()) {
        await runtime.killPod({ uid: p.uid, name: p.name, namespace: p.namespace }, p, 0, true)
          .catch((err) => logger.warn({ uid: p.uid, err: String(err) }, 'pod removal failed'));
      }
      await volumeManager.removeOrphans(new Set());
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      for (const s of subscriptions) s.unsubscribe();
      for (const t of retryTimers.values()) clearTimeout(t);
      await Promise.all([stopGc(), stopLocalNode?.(), nodeController?.stop()]);
      await Promise.race([statusManager.flush(), new Promise((r) => setTimeout(r, 2000))]);
      statusManager.stop();
      await Promise.all([healthz.close(), nodeApi.close(), ...stoppers.map((stop) => stop())]);
      logger.info('agent stopped');
    },
  };
}
