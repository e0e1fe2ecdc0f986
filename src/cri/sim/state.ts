// Everything the simulated runtime holds. It outlives one server: hand it to a new
// startSimRuntime to model a runtime restart in which containers keep running, as they do
// under containerd's shims.
import { ContainerStore } from './containers.ts';
import type { PullRecord } from './image-service.ts';
import { defaultPullable, ImageStore } from './images.ts';
import { SandboxStore } from './sandboxes.ts';
import { LifecycleFeed } from './lifecycle-feed.ts';

export type RuntimeConditionType = 'RuntimeReady' | 'NetworkReady';
export interface RuntimeConditionState { status: boolean; reason: string; message: string }

export const DEFAULT_RUNTIME_HANDLERS: readonly string[] = ['', 'runc', 'runc-alt'];

export interface SimStateOptions {
  /** Image names present from the start. */
  images?: string[];
  /** Which names PullImage can fetch; default: any name without "missing" or "does-not-exist". */
  pullableImages?: (ref: string) => boolean;
  /** RuntimeClass handlers RunPodSandbox accepts; default "", "runc" and "runc-alt". */
  runtimeHandlers?: readonly string[];
}

export class SimState {
  readonly images: ImageStore;
  readonly sandboxes: SandboxStore;
  readonly containers: ContainerStore;
  /** Every lifecycle change of a sandbox or container, for GetContainerEvents. */
  readonly lifecycle = new LifecycleFeed();
  readonly runtimeHandlers: readonly string[];
  /** Every PullImage call, in order, with the credentials it carried. */
  readonly pulls: PullRecord[] = [];
  /** What Status reports; flip one to model a runtime or its network going bad. */
  readonly conditions: Record<RuntimeConditionType, RuntimeConditionState> = {
    RuntimeReady: { status: true, reason: '', message: '' },
    NetworkReady: { status: true, reason: '', message: '' },
  };

  constructor(opts: SimStateOptions = {}) {
    this.runtimeHandlers = opts.runtimeHandlers ?? DEFAULT_RUNTIME_HANDLERS;
    this.images = new ImageStore(opts.pullableImages ?? defaultPullable);
    for (const ref of opts.images ?? []) this.images.add(ref);
    this.sandboxes = new SandboxStore(new Set(this.runtimeHandlers), this.lifecycle);
    this.containers = new ContainerStore(this.sandboxes, this.images, this.lifecycle);
  }

  /** e.g. setCondition('NetworkReady', false, 'NetworkPluginNotReady', 'cni config uninitialized') */
  setCondition(type: RuntimeConditionType, status: boolean, reason = '', message = ''): void {
    this.conditions[type] = { status, reason, message };
  }
}
