// Collects what one sync (or kill) did: failures with the kubelet's reasons, the waiting reason
// per container that users see in containerStatuses, events, and when to try again.
import type { KnownInstances, PodEvent, RuntimePodStatus, StepFailure, SyncResult } from './pod-runtime.ts';

// Failures while stopping or removing say nothing about why a container is waiting.
const STOPPING_STEPS = new Set(['kill', 'stopSandbox', 'remove']);

export class SyncResultBuilder {
  private readonly result: SyncResult = { failures: [], waiting: {}, events: [] };

  event(type: PodEvent['type'], reason: string, message: string, container?: string): void {
    this.result.events.push({ type, reason, message, ...(container !== undefined ? { container } : {}) });
  }

  /** A failed step; when it kept a container from starting, it is also its waiting reason. */
  fail(failure: StepFailure): void {
    this.result.failures.push(failure);
    if (failure.container !== undefined && !STOPPING_STEPS.has(failure.step)) {
      this.result.waiting[failure.container] = { reason: failure.reason, message: failure.message };
    }
  }

  retryAfter(ms: number): void {
    if (ms <= 0) return;
    this.result.retryAfterMs = this.result.retryAfterMs === undefined ? ms : Math.min(this.result.retryAfterMs, ms);
  }

  /** A step is about to create, start, stop or remove something in the runtime. */
  changesRuntime(): void {
    this.result.runtimeChanged = true;
  }

  createdSandbox(id: string): void {
    this.createdList().sandboxIds.push(id);
  }

  createdContainer(id: string, sandboxId: string): void {
    this.createdList().containers.push({ id, sandboxId });
  }

  private createdList(): NonNullable<SyncResult['created']> {
    return (this.result.created ??= { sandboxIds: [], containers: [] });
  }

  get failed(): boolean {
    return this.result.failures.length > 0;
  }

  build(): SyncResult {
    return this.result;
  }
}

/** The pod's instances after a sync or a stop (remove: false) that went well: those before it
 * and those it created (neither removes any). Undefined after a failed step: a call that timed
 * out may have created something after all, so only a read by label tells. */
export function instancesAfter(before: RuntimePodStatus, result: SyncResult): KnownInstances | undefined {
  if (result.failures.length > 0) return undefined;
  return {
    sandboxIds: [...before.sandboxes.map((s) => s.id), ...(result.created?.sandboxIds ?? [])],
    containers: [...before.containers.map((c) => ({ id: c.id, sandboxId: c.sandboxId })), ...(result.created?.containers ?? [])],
  };
}

/** The message of a CRI (or any) error without our "CRI X failed: CODE:" prefix. */
export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object' && 'details' in err && typeof (err as { details: unknown }).details === 'string') return (err as { details: string }).details;
  return err instanceof Error ? err.message : String(err);
}
