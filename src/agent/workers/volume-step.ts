// Volumes before containers, as the kubelet's pod worker waits for attach-and-mount before
// SyncPod. Ready volumes become the runtime manager's container mounts. A pod whose volumes
// cannot be made stays Pending, its containers waiting in ContainerCreating, with a
// FailedMount event, and is tried again. A volume that was ready keeps its last content when a
// refresh fails (a ConfigMap deleted under a running pod does not stop it): an event says so.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodEvent, SyncContext, SyncResult } from '../../cri/runtime-manager/pod-runtime.ts';
import { podLogFields, podRefOf } from '../../pod/pod-ref.ts';
import { VolumeSetupError, type PodVolumeManager, type ReadyVolumes } from '../../volume/pod-volumes.ts';

export type VolumePreparation =
  /** `events`: a refresh that failed under a running pod (FailedMount), for the record. */
  | { ok: true; syncContext: SyncContext; events: PodEvent[] }
  /** Nothing can start: publish this result (FailedMount) and try again later. */
  | { ok: false; result: SyncResult };

export class VolumeStep {
  private readonly lastReady = new Map<string, ReadyVolumes>();

  constructor(private readonly manager: PodVolumeManager, private readonly logger: Logger) {}

  /** Makes the pod's volumes ready (or refreshes them) and returns the sync context that mounts them. */
  async prepare(pod: V1Pod, base: SyncContext, running: boolean): Promise<VolumePreparation> {
    const uid = pod.metadata!.uid!;
    let ready: ReadyVolumes | undefined;
    let failure: string | undefined;
    let refreshFailures: string[] = [];
    try {
      ready = await this.manager.setUp(pod);
      this.lastReady.set(uid, ready);
      refreshFailures = (ready.refreshErrors ?? []).map((e) => e.message);
    } catch (err) {
      failure = err instanceof VolumeSetupError ? err.message : `MountVolume.SetUp failed: ${err instanceof Error ? err.message : String(err)}`;
      this.logger.warn({ ...podLogFields(podRefOf(pod)), uid, step: 'volumes', reason: 'FailedMount', err }, 'volumes not ready');
      ready = running ? this.lastReady.get(uid) : undefined;
    }
    const failedMount: PodEvent[] = [...(failure ? [failure] : []), ...refreshFailures].map((message) => ({ type: 'Warning', reason: 'FailedMount', message }));
    if (!ready) return { ok: false, result: { failures: [{ step: 'volumes', reason: 'FailedMount', message: failure! }], waiting: {}, events: failedMount } };
    const volumes = ready;
    return {
      ok: true,
      syncContext: { ...base, volumeMounts: (container, env) => this.manager.mountsFor(pod, container, volumes, env) },
      events: failedMount,
    };
  }

  /** Unmounts and removes the pod's volumes (after its containers are gone). */
  async tearDown(uid: string): Promise<void> {
    this.lastReady.delete(uid);
    await this.manager.tearDown(uid);
  }
}
