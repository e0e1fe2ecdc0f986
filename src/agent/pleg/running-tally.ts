// kubelet_running_pods and kubelet_running_containers between relists. The relist sets them
// (agent-metrics.ts); with evented PLEG it runs every few minutes, so each event's statuses
// (its sandbox, all of that sandbox's containers) update this tally, seeded by every relist.
// Counted as runningCounts counts a relist: pods with a ready sandbox, containers by state. Pure.
import type { ObservedContainerState, RuntimePodStatus } from '../../cri/runtime-manager/pod-runtime.ts';
import type { ContainerEventResponse } from '../../cri/types.ts';

interface TalliedSandbox { uid: string; ready: boolean }
interface TalliedContainer { sandboxId: string; state: ObservedContainerState }

const STATE_OF: Record<string, ObservedContainerState> = {
  CONTAINER_CREATED: 'created', CONTAINER_RUNNING: 'running', CONTAINER_EXITED: 'exited',
};

export interface RunningCounts { pods: number; containers: Record<ObservedContainerState, number> }

export class RunningTally {
  private sandboxes = new Map<string, TalliedSandbox>();
  private containers = new Map<string, TalliedContainer>();

  /** A relist saw all of this. */
  relisted(pods: readonly RuntimePodStatus[]): void {
    this.sandboxes = new Map();
    this.containers = new Map();
    for (const p of pods) {
      for (const s of p.sandboxes) this.sandboxes.set(s.id, { uid: p.uid, ready: s.state === 'ready' });
      for (const c of p.containers) this.containers.set(c.id, { sandboxId: c.sandboxId, state: c.state });
    }
  }

  /** An event of this pod: its sandbox and that sandbox's containers are as it shows them. */
  apply(uid: string, event: ContainerEventResponse): void {
    const sandbox = event.podSandboxStatus;
    const sandboxId = sandbox?.id ?? (event.containerEventType === 'CONTAINER_DELETED_EVENT' && this.sandboxes.has(event.containerId) ? event.containerId : undefined);
    if (!sandboxId) return;
    for (const [id, c] of this.containers) if (c.sandboxId === sandboxId) this.containers.delete(id);
    if (event.containerEventType === 'CONTAINER_DELETED_EVENT' && event.containerId === sandboxId) {
      this.sandboxes.delete(sandboxId);
      return;
    }
    if (sandbox) this.sandboxes.set(sandboxId, { uid, ready: sandbox.state === 'SANDBOX_READY' });
    for (const c of event.containersStatuses) this.containers.set(c.id, { sandboxId, state: STATE_OF[c.state] ?? 'unknown' });
  }

  counts(): RunningCounts {
    const containers: Record<ObservedContainerState, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
    for (const c of this.containers.values()) containers[c.state]++;
    const ready = new Set<string>();
    for (const s of this.sandboxes.values()) if (s.ready) ready.add(s.uid);
    return { pods: ready.size, containers };
  }
}
