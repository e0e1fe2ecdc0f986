// Pod sandboxes of the simulated runtime: creation with name reservation (as containerd, a
// second RunPodSandbox for the same pod and attempt fails), IPs from 10.88.0.0/16, stop and
// removal. Containers are handled by containers.ts; this file only calls into it.
import { status } from '@grpc/grpc-js';
import type { PodSandboxConfig__Output } from '../generated/runtime/v1/PodSandboxConfig.ts';
import type { PodSandboxMetadata__Output } from '../generated/runtime/v1/PodSandboxMetadata.ts';
import type { PodSandboxState__Output } from '../generated/runtime/v1/PodSandboxState.ts';
import type { PodSandboxFilter__Output } from '../generated/runtime/v1/PodSandboxFilter.ts';
import { newId, nowNs } from './clock.ts';
import { invalidArgument, notFound, SimError } from './errors.ts';
import { matchesLabels, resolveId } from './filters.ts';
import type { LifecycleChange, LifecycleFeed } from './lifecycle-feed.ts';

export interface SimSandbox {
  id: string;
  metadata: PodSandboxMetadata__Output;
  config: PodSandboxConfig__Output;
  runtimeHandler: string;
  state: PodSandboxState__Output;
  createdAt: number;
  /** '' with host networking, and once the sandbox is stopped (its netns is gone). */
  ip: string;
  /** containerd's reservation key: <name>_<namespace>_<uid>_<attempt>. */
  reservedName: string;
}

export class SandboxStore {
  readonly byId = new Map<string, SimSandbox>();
  private readonly names = new Map<string, string>();
  private readonly ipsInUse = new Set<number>();

  constructor(private readonly runtimeHandlers: ReadonlySet<string>, private readonly feed?: LifecycleFeed) {}

  run(config: PodSandboxConfig__Output | null, runtimeHandler: string): SimSandbox {
    const metadata = config?.metadata;
    if (!config || !metadata) throw invalidArgument('sandbox config must include metadata');
    if (!metadata.name || !metadata.uid || !metadata.namespace) throw invalidArgument('sandbox metadata must include name, uid and namespace');
    if (!this.runtimeHandlers.has(runtimeHandler)) {
      throw new SimError(status.UNKNOWN, `failed to get sandbox runtime: no runtime for "${runtimeHandler}" is configured`);
    }
    const reservedName = `${metadata.name}_${metadata.namespace}_${metadata.uid}_${metadata.attempt}`;
    const holder = this.names.get(reservedName);
    if (holder) {
      throw new SimError(status.UNKNOWN, `failed to reserve sandbox name "${reservedName}": name "${reservedName}" is reserved for "${holder}"`);
    }
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    const sandbox: SimSandbox = {
      id: newId(),
      metadata,
      config,
      runtimeHandler,
      state: 'SANDBOX_READY',
      createdAt: nowNs(),
      ip: hostNetwork ? '' : this.allocateIp(),
      reservedName,
    };
    this.names.set(reservedName, sandbox.id);
    this.byId.set(sandbox.id, sandbox);
    // containerd reports a new sandbox as created, then started (its pause container runs).
    this.announce('CONTAINER_CREATED_EVENT', sandbox);
    this.announce('CONTAINER_STARTED_EVENT', sandbox);
    return sandbox;
  }

  /** By full id or unique prefix (crictl-style); throws NOT_FOUND. */
  get(idOrPrefix: string): SimSandbox {
    const id = resolveId(this.byId, idOrPrefix);
    const sandbox = id ? this.byId.get(id) : undefined;
    if (!sandbox) throw notFound('sandbox', idOrPrefix);
    return sandbox;
  }

  find(idOrPrefix: string): SimSandbox | undefined {
    const id = resolveId(this.byId, idOrPrefix);
    return id ? this.byId.get(id) : undefined;
  }

  /** Marks the sandbox not ready and frees its IP (containers are stopped by the caller). */
  markStopped(sandbox: SimSandbox): void {
    const wasReady = sandbox.state === 'SANDBOX_READY';
    sandbox.state = 'SANDBOX_NOTREADY';
    this.releaseIp(sandbox.ip);
    sandbox.ip = '';
    // A second StopPodSandbox changes nothing, and reports nothing.
    if (wasReady) this.announce('CONTAINER_STOPPED_EVENT', sandbox);
  }

  delete(sandbox: SimSandbox): void {
    // Announced while the sandbox is still there, so the event carries its last status.
    this.announce('CONTAINER_DELETED_EVENT', sandbox);
    this.releaseIp(sandbox.ip);
    this.names.delete(sandbox.reservedName);
    this.byId.delete(sandbox.id);
  }

  list(filter: PodSandboxFilter__Output | null): SimSandbox[] {
    const id = filter?.id ? resolveId(this.byId, filter.id) : undefined;
    if (filter?.id && !id) return [];
    return [...this.byId.values()].filter((s) =>
      (!id || s.id === id) &&
      (!filter?.state || s.state === filter.state.state) &&
      matchesLabels(s.config.labels, filter?.labelSelector));
  }

  private announce(type: LifecycleChange['type'], sandbox: SimSandbox): void {
    this.feed?.announce({ type, containerId: sandbox.id, sandboxId: sandbox.id });
  }

  private allocateIp(): string {
    for (let n = 2; n < 65535; n++) {
      if ((n & 255) === 0 || (n & 255) === 255 || this.ipsInUse.has(n)) continue;
      this.ipsInUse.add(n);
      return `10.88.${n >> 8}.${n & 255}`;
    }
    throw new SimError(status.RESOURCE_EXHAUSTED, 'failed to allocate for range 0: no IP addresses available in range set: 10.88.0.1-10.88.255.254');
  }

  private releaseIp(ip: string): void {
    const m = /^10\.88\.(\d+)\.(\d+)$/.exec(ip);
    if (m) this.ipsInUse.delete(Number(m[1]) * 256 + Number(m[2]));
  }
}
