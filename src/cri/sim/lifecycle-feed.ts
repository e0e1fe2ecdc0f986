// What changed in the simulated runtime, as containerd's CRI plugin reports it on its event
// stream: a container created, started, stopped (its process exited, however it was ended) or
// deleted, and the same four for a sandbox, which is named by its own id. The stores announce
// each change synchronously, right after it, so a listener reads the state just as it is then.
import type { ContainerEventType__Output } from '../generated/runtime/v1/ContainerEventType.ts';

export interface LifecycleChange {
  type: ContainerEventType__Output;
  /** The container's id, or the sandbox's own id for a sandbox change. */
  containerId: string;
  sandboxId: string;
}

export type LifecycleListener = (change: LifecycleChange) => void;

export class LifecycleFeed {
  private readonly listeners = new Set<LifecycleListener>();

  /** Returns the function that stops listening. */
  listen(listener: LifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  announce(change: LifecycleChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
