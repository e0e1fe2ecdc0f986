// One sync of one pod: the body of a pod worker. Reads the pod's newest record, then either
//  - removes it (gone from its source, or deleted on the API server: kill, release, unmount, DELETE),
//  - admits or rejects it (first sight),
//  - leaves it stopped (terminal phase), or
//  - makes its volumes ready, drives it toward its spec (runtime.syncPod) and publishes the
//    resulting status.
import type { V1Node, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodRuntime, RuntimePodStatus, SyncContext, SyncResult } from '../../cri/runtime-manager/pod-runtime.ts';
import type { SandboxNetwork } from '../../cni/sandbox-network.ts';
import type { ContainerDevices } from '../../device/container-devices.ts';
import type { KubeApi } from '../api/kube-api.ts';
import { admitPod } from '../admission/admit-pod.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import { deleteMirrorPod, ensureMirrorPod } from '../sources/mirror-pods.ts';
import { podFullName } from '../sources/pod-update.ts';
import type { StatusManager } from '../status/status-manager.ts';
import { moveTo, runningStateOf } from './lifecycle-log.ts';
import type { PodRecord, PodRegistry } from './pod-registry.ts';
import type { VolumeStep } from './volume-step.ts';

export type GeneratePodStatus = (pod: V1Pod, observed: RuntimePodStatus, sync: SyncResult | undefined,
  ctx: { hostIP: string; podIPs: string[]; now: Date; runtimeName?: string }) => V1PodStatus;

export interface PodSyncDeps {
  registry: PodRegistry;
  runtime: PodRuntime;
  devices: ContainerDevices;
  volumes: VolumeStep;
  network: SandboxNetwork;
  statusManager: StatusManager;
  events: EventRecorder;
  /** Absent in standalone mode. */
  api?: KubeApi;
  node: () => V1Node;
  hostIP: () => string;
  runtimeName: () => string | undefined;
  syncContext: SyncContext;
  generatePodStatus: GeneratePodStatus;
  logger: Logger;
}

export interface PodSyncOutcome {
  uid: string;
  /** Sync again after this long unless something else wakes the pod first. */
  retryAfterMs?: number;
  /** A step failed (the worker backs off before trying again unless retryAfterMs says when). */
  failed?: boolean;
}

export function isTerminal(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Kubelet rule: deletionGracePeriodSeconds, else terminationGracePeriodSeconds, else 30. */
export function gracePeriodOf(pod: V1Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}

function hasAnything(observed: RuntimePodStatus): boolean {
  return observed.sandboxes.length > 0 || observed.containers.length > 0;
}

export function createPodSyncer(deps: PodSyncDeps): (uid: string) => Promise<PodSyncOutcome> {
  const { registry, runtime, devices, statusManager, logger } = deps;

  const target = (r: PodRecord) => ({ uid: r.uid, name: r.pod.metadata!.name!, namespace: r.pod.metadata!.namespace ?? 'default', pod: r.pod });
  const observe = (r: PodRecord) => runtime.getPodStatus(r.uid, r.pod.metadata!.name!, r.pod.metadata!.namespace ?? 'default');
  const record = (r: PodRecord, result: SyncResult) => {
    for (const e of result.events) deps.events.record(r.pod, e);
  };

  /** The pod as the next status computation must see it: with the newest status we computed. */
  const withLatestStatus = (r: PodRecord): V1Pod => ({ ...r.pod, status: statusManager.latest(r.uid) ?? r.pod.status });

  /** Computes the pod's API status from what the runtime holds and hands it to the status manager. */
  function publishStatus(r: PodRecord, pod: V1Pod, observed: RuntimePodStatus, result: SyncResult | undefined): V1PodStatus {
    const sandbox = observed.sandboxes[0];
    const podIPs = sandbox ? (sandbox.ips.length ? sandbox.ips : deps.network.ipsOf(sandbox.id) ?? []) : [];
    const status = deps.generatePodStatus(pod, observed, result, { hostIP: deps.hostIP(), podIPs, now: new Date(), runtimeName: deps.runtimeName() });
    statusManager.set(r.pod, status);
    return status;
  }

  async function remove(r: PodRecord): Promise<PodSyncOutcome> {
    const observed = await observe(r);
    if (hasAnything(observed)) {
      moveTo(r, 'Terminating', logger);
      record(r, await runtime.killPod(target(r), observed, gracePeriodOf(r.pod), true));
    }
    await devices.release(r.uid);
    await deps.volumes.tearDown(r.uid);
    if (r.source === 'file' && deps.api) {
      const mirror = registry.mirrorOf(podFullName(r.pod));
      if (mirror) await deleteMirrorPod(deps.api, mirror);
    }
    moveTo(r, 'Terminated', logger);
    statusManager.forget(r.uid);
    registry.forget(r.uid);
    return { uid: r.uid };
  }

  async function terminateDeleted(r: PodRecord): Promise<PodSyncOutcome> {
    const grace = gracePeriodOf(r.pod);
    const observed = await observe(r);
    if (hasAnything(observed)) {
      moveTo(r, 'Terminating', logger, { gracePeriodSeconds: grace });
      record(r, await runtime.killPod(target(r), observed, grace, false));
      // Kubelet order: publish how the containers ended (exit codes, termination messages)
      // before the pod object goes away, so watchers and controllers see it; then remove.
      const stopped = await observe(r);
      publishStatus(r, withLatestStatus(r), stopped, undefined);
      await statusManager.flush();
      record(r, await runtime.killPod(target(r), stopped, grace, true));
    }
    await devices.release(r.uid);
    await deps.volumes.tearDown(r.uid);
    // The API server removes the object once the node says it is done (grace 0, same uid).
    await deps.api?.deletePod(r.pod.metadata!.namespace ?? 'default', r.pod.metadata!.name!, r.uid, 0);
    moveTo(r, 'Terminated', logger);
    return { uid: r.uid };
  }

  async function admit(r: PodRecord): Promise<boolean> {
    const others = registry.all()
      .filter((o) => o.uid !== r.uid && !o.removed && o.admission?.admitted && !isTerminal(statusManager.latest(o.uid)?.phase ?? o.pod.status?.phase))
      .map((o) => o.pod);
    const deviceResources = devices.resources();
    let result = admitPod(r.pod, deps.node(), others, (name) => name in deviceResources);
    // Mark before the await, so a pod admitted in parallel counts this one's requests.
    r.admission = result;
    if (result.admitted) {
      const d = await devices.admit(r.pod).catch((err) => ({ admitted: false as const, reason: 'UnexpectedAdmissionError', message: String(err) }));
      if (!d.admitted) result = r.admission = d;
    }
    if (result.admitted) {
      moveTo(r, 'Admitted', logger);
      return true;
    }
    moveTo(r, 'Rejected', logger, { reason: result.reason, message: result.message });
    deps.events.record(r.pod, { type: 'Warning', reason: result.reason, message: result.message });
    statusManager.set(r.pod, {
      ...r.pod.status,
      phase: 'Failed',
      reason: result.reason,
      message: `Pod was rejected: ${result.message}`,
    });
    return false;
  }

  async function stopTerminal(r: PodRecord): Promise<void> {
    if (r.terminalHandled) return;
    const observed = await observe(r);
    const running = observed.containers.some((c) => c.state === 'running') || observed.sandboxes.some((s) => s.state === 'ready');
    if (running) record(r, await runtime.killPod(target(r), observed, gracePeriodOf(r.pod), false));
    await devices.release(r.uid);
    // A finished pod's containers never start again: its volumes go now, as the kubelet unmounts them.
    await deps.volumes.tearDown(r.uid);
    r.terminalHandled = true;
  }

  return async function syncPod(uid: string): Promise<PodSyncOutcome> {
    const r = registry.get(uid);
    if (!r) return { uid };
    if (r.removed) return remove(r);
    if (r.pod.metadata?.deletionTimestamp) return terminateDeleted(r);
    if (r.admission === undefined && !(await admit(r))) return { uid };
    if (r.admission && !r.admission.admitted) return { uid };
    if (r.source === 'file' && deps.api) {
      await ensureMirrorPod(deps.api, r.pod, registry.mirrorOf(podFullName(r.pod)), deps.node())
        .catch((err) => logger.warn({ pod: podFullName(r.pod), uid, err: String(err) }, 'mirror pod not created'));
    }
    const pod = withLatestStatus(r);
    if (isTerminal(pod.status?.phase)) {
      await stopTerminal(r);
      return { uid };
    }

    const observed = await observe(r);
    const volumes = await deps.volumes.prepare(pod, deps.syncContext, observed.containers.some((c) => c.state === 'running'));
    if (!volumes.ok) {
      record(r, volumes.result);
      publishStatus(r, pod, observed, volumes.result);
      return { uid, failed: true };
    }
    for (const e of volumes.events) deps.events.record(r.pod, e);
    const result = await runtime.syncPod(pod, observed, volumes.syncContext);
    record(r, result);
    const after = await observe(r);
    const status = publishStatus(r, pod, after, result);
    for (const f of result.failures) {
      logger.warn({ pod: podFullName(r.pod), uid, step: f.step, reason: f.reason, container: f.container, message: f.message }, 'sync step failed');
    }
    moveTo(r, runningStateOf(after, pod.spec?.containers?.length ?? 0, status.phase), logger);
    if (isTerminal(status.phase)) await stopTerminal(r);
    return { uid, retryAfterMs: result.retryAfterMs, failed: result.failures.length > 0 };
  };
}
