// kubelet_running_pods and kubelet_running_containers between relists. The relist sets them
// (agent-metrics.ts); with evented PLEG it runs every few minutes, so each event's statuses
// (its sandbox, all of that sandbox's containers) update this tally, seeded by every relist.
// Counted as runningCounts counts a relist: pods with a ready sandbox, containers by state. Pure.
import type { ObservedContainerState, RuntimePodStatus } from '../../cri/runtime-manager/pod-runtime.ts';
import type { ContainerEventResponse } from '../../cri/types.ts';

interface TalliedSandbox { uid: string; ready: boolean }

const STATE_OF: Record<string, ObservedContainerState> = {
  CONTAINER_CREATED: 'created', CONTAINER_RUNNING: 'running', CONTAINER_EXITED: 'exited',
};

export interface RunningCounts { pods: number; containers: Record<ObservedContainerState, number> }

export class RunningTally {
  private sandboxes = new Map<string, TalliedSandbox>();
  /** Container id → state, by sandbox id: an event replaces one sandbox's set. */
  private containersOf = new Map<string, Map<string, ObservedContainerState>>();
  // Kept as each change lands, so counts() costs nothing per event at thousands of pods.
  private containerCounts: Record<ObservedContainerState, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
  private readySandboxesOf = new Map<string, number>();

  /** A relist saw all of this. */
  relisted(pods: readonly RuntimePodStatus[]): void {
    this.sandboxes = new Map();
    this.containersOf = new Map();
    this.containerCounts = { created: 0, running: 0, exited: 0, unknown: 0 };
    this.readySandboxesOf = new Map();
    for (const p of pods) {
      for (const s of p.sandboxes) this.setSandbox(s.id, { uid: p.uid, ready: s.state === 'ready' });
      for (const c of p.containers) this.setContainer(c.sandboxId, c.id, c.state);
    }
  }

  /** An event of this pod: its sandbox and that sandbox's containers are as it shows them. */
  apply(uid: string, event: ContainerEventResponse): void {
    const sandbox = event.podSandboxStatus;
    const sandboxId = sandbox?.id ?? (event.containerEventType === 'CONTAINER_DELETED_EVENT' && this.sandboxes.has(event.containerId) ? event.containerId : undefined);
    if (!sandboxId) return;
    for (const state of this.containersOf.get(sandboxId)?.values() ?? []) this.containerCounts[state]--;
    this.containersOf.delete(sandboxId);
    if (event.containerEventType === 'CONTAINER_DELETED_EVENT' && event.containerId === sandboxId) {
      this.deleteSandbox(sandboxId);
      return;
    }
    if (sandbox) this.setSandbox(sandboxId, { uid, ready: sandbox.state === 'SANDBOX_READY' });
    for (const c of event.containersStatuses) this.setContainer(sandboxId, c.id, STATE_OF[c.state] ?? 'unknown');
  }

  counts(): RunningCounts {
    return { pods: this.readySandboxesOf.size, containers: { ...this.containerCounts } };
  }

  private setSandbox(id: string, next: TalliedSandbox): void {
    this.deleteSandbox(id);
    this.sandboxes.set(id, next);
    if (next.ready) this.readySandboxesOf.set(next.uid, (this.readySandboxesOf.get(next.uid) ?? 0) + 1);
  }

  private deleteSandbox(id: string): void {
    const old = this.sandboxes.get(id);
    if (!old) return;
    this.sandboxes.delete(id);
    if (!old.ready) return;
    const left = (this.readySandboxesOf.get(old.uid) ?? 1) - 1;
    if (left > 0) this.readySandboxesOf.set(old.uid, left);
    else this.readySandboxesOf.delete(old.uid);
  }

  private setContainer(sandboxId: string, id: string, state: ObservedContainerState): void {
    let containers = this.containersOf.get(sandboxId);
    if (!containers) this.containersOf.set(sandboxId, (containers = new Map()));
    const old = containers.get(id);
    if (old) this.containerCounts[old]--;
    containers.set(id, state);
    this.containerCounts[state]++;
  }
}
