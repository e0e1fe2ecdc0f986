// The device manager: plugins register here, their devices become extended resources of the
// Node, pods are admitted against free healthy devices, and containers get what the plugins'
// Allocate answers asked for. Allocations are checkpointed so a restart never hands one
// device to two pods.
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { AllocationLedger, type DeviceAllocation } from './allocation-ledger.ts';
import { containerDemands, devicesToAllocate, pickDevices, sortDeviceIds, updateReusable } from './allocator.ts';
import { CHECKPOINT_FILE_NAME, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import type { ContainerDeviceOptions, ContainerDevices, DeviceAdmission } from './container-devices.ts';
import { mergeAllocateResponses } from './container-options.ts';
import { PluginEndpoint } from './plugin-endpoint.ts';
import { startPodResourcesServer, type PodResourcesServer } from './pod-resources-server.ts';
import { HEALTHY, UNHEALTHY, type Device, type PodResources, type PodResourcesContainerDevices, type RegisterRequest } from './protocol.ts';
import { startRegistrationServer, type RegistrationServer } from './registration-server.ts';

export interface ActivePod {
  uid: string;
  name: string;
  namespace: string;
  containers: string[];
}

export interface DeviceManagerOptions {
  /** Where kubelet.sock, plugin sockets and the checkpoint live. */
  pluginDir: string;
  /** Serve the PodResources API here (e.g. <root-dir>/pod-resources/kubelet.sock). */
  podResourcesSocket?: string;
  logger: Logger;
  /** Pods the agent runs now; PodResources lists these (else the pods holding devices). */
  activePods?: () => ActivePod[];
  /** How long a stopped plugin's devices stay in capacity, as unhealthy (kubelet: 5 min). */
  endpointStopGraceMs?: number;
}

export interface DeviceManager extends ContainerDevices {
  stop(): Promise<void>;
  /** Called whenever resources() changes, so the agent can update Node status at once. */
  onChange(cb: () => void): void;
  /** Frees devices of pods not in the set (pods deleted while the agent was down). */
  reconcile(activePodUids: Set<string>): Promise<void>;
}

interface ResourceState {
  /** Live connection; undefined once the plugin went away (or before it re-registers after a restart). */
  endpoint?: PluginEndpoint;
  /** Every device the plugin last announced, with its health. */
  devices: Map<string, Device>;
  removeTimer?: NodeJS.Timeout;
}

const DEFAULT_STOP_GRACE_MS = 5 * 60_000;

class AdmissionFailure extends Error {}

class PluginDeviceManager implements DeviceManager {
  private readonly states = new Map<string, ResourceState>();
  private readonly listeners: Array<() => void> = [];
  private lastResources = '{}';
  private ledger = new AllocationLedger();
  /** Admissions and releases run one at a time: allocation spans async plugin calls. */
  private serial: Promise<unknown> = Promise.resolve();
  private writes: Promise<void> = Promise.resolve();
  private registration?: RegistrationServer;
  private podResources?: PodResourcesServer;
  private readonly checkpointPath: string;
  private readonly graceMs: number;
  private readonly log: Logger;

  constructor(private readonly opts: DeviceManagerOptions) {
    this.checkpointPath = join(opts.pluginDir, CHECKPOINT_FILE_NAME);
    this.graceMs = opts.endpointStopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    this.log = opts.logger.child({ component: 'device-manager' });
  }

  async start(): Promise<void> {
    await this.restoreCheckpoint();
    this.registration = await startRegistrationServer(this.opts.pluginDir, (req, socket) => this.register(req, socket), this.log);
    if (this.opts.podResourcesSocket) {
      this.podResources = await startPodResourcesServer(this.opts.podResourcesSocket, {
        listPods: () => this.podResourcesList(),
        allocatable: () => this.allocatableDevices(),
      }, this.log);
    }
  }

  private async restoreCheckpoint(): Promise<void> {
    const read = await readCheckpoint(this.checkpointPath);
    if (!read.ok) {
      // As the kubelet: carry on with empty state, loudly, rather than refuse to start.
      this.log.error({ path: this.checkpointPath, err: read.error }, 'device checkpoint unusable; continuing without previous allocations');
      return;
    }
    this.ledger = new AllocationLedger(read.data.allocations);
    for (const [resource, ids] of Object.entries(read.data.registeredDevices)) {
      // Known devices, but no plugin yet: in capacity, not allocatable, until it re-registers.
      const state: ResourceState = { devices: new Map(ids.map((id) => [id, { ID: id, health: UNHEALTHY }])) };
      this.states.set(resource, state);
      this.scheduleRemoval(resource, state);
    }
    this.notifyIfChanged();
  }

  private async register(req: RegisterRequest, socketPath: string): Promise<void> {
    const resource = req.resource_name;
    const registered = req.options ?? { pre_start_required: false, get_preferred_allocation_available: false };
    const endpoint = await PluginEndpoint.connect(resource, socketPath, registered, this.log);
    const previous = this.states.get(resource);
    previous?.endpoint?.stop();
    if (previous?.removeTimer) clearTimeout(previous.removeTimer);
    const state: ResourceState = { endpoint, devices: previous?.devices ?? new Map() };
    this.states.set(resource, state);
    this.log.info({ resource, socket: socketPath, options: endpoint.options, replaced: Boolean(previous?.endpoint) }, 'device plugin registered');
    endpoint.watch({
      onDevices: (devices) => {
        if (state.endpoint !== endpoint) return;
        state.devices = new Map(devices.map((d) => [d.ID, d]));
        this.log.debug({ resource, devices: devices.length, healthy: devices.filter((d) => d.health === HEALTHY).length }, 'device list from plugin');
        this.notifyIfChanged();
        this.persist();
      },
      onStopped: (reason) => {
        if (state.endpoint !== endpoint) return;
        this.log.warn({ resource, reason }, 'device plugin went away; its devices are unhealthy until it registers again');
        endpoint.stop();
        state.endpoint = undefined;
        for (const d of state.devices.values()) d.health = UNHEALTHY;
        this.scheduleRemoval(resource, state);
        this.notifyIfChanged();
      },
    });
  }

  /** After the grace period a plugin that did not come back leaves capacity altogether. */
  private scheduleRemoval(resource: string, state: ResourceState): void {
    state.removeTimer = setTimeout(() => {
      if (this.states.get(resource) !== state || state.endpoint) return;
      this.states.delete(resource);
      this.log.info({ resource }, 'device plugin did not return within the grace period; resource removed');
      this.notifyIfChanged();
      this.persist();
    }, this.graceMs);
    state.removeTimer.unref();
  }

  private healthyIds(resource: string): Set<string> | undefined {
    const state = this.states.get(resource);
    if (!state) return undefined;
    return new Set([...state.devices.values()].filter((d) => d.health === HEALTHY).map((d) => d.ID));
  }

  resources(): Record<string, { capacity: number; allocatable: number }> {
    const out: Record<string, { capacity: number; allocatable: number }> = {};
    for (const resource of [...this.states.keys()].sort()) {
      const state = this.states.get(resource)!;
      out[resource] = { capacity: state.devices.size, allocatable: this.healthyIds(resource)!.size };
    }
    return out;
  }

  onChange(cb: () => void): void {
    this.listeners.push(cb);
  }

  private notifyIfChanged(): void {
    const now = JSON.stringify(this.resources());
    if (now === this.lastResources) return;
    this.lastResources = now;
    for (const cb of this.listeners) {
      try { cb(); } catch (err) { this.log.error({ err }, 'device resources onChange callback failed'); }
    }
  }

  private isDeviceResource = (name: string): boolean =>
    this.states.has(name) || this.ledger.all().some((e) => e.resource === name);

  admit(pod: V1Pod): Promise<DeviceAdmission> {
    return this.serialized(() => this.admitNow(pod));
  }

  private async admitNow(pod: V1Pod): Promise<DeviceAdmission> {
    const podUid = pod.metadata?.uid ?? '';
    const podName = pod.metadata?.name ?? '';
    const podNamespace = pod.metadata?.namespace ?? 'default';
    const demands = containerDemands(pod, this.isDeviceResource);
    if (!demands.length) return { admitted: true };
    const added: DeviceAllocation[] = [];
    const reusable = new Map<string, string[]>();
    try {
      for (const demand of demands) {
        for (const [resource, requested] of Object.entries(demand.devices)) {
          const existing = this.ledger.find(podUid, demand.name, resource);
          if (existing) { // admitted before (idempotent), possibly by the agent before a restart
            updateReusable(reusable, demand.kind, resource, existing.deviceIds);
            continue;
          }
          const choice = devicesToAllocate({
            resource, requested, healthy: this.healthyIds(resource), inUse: this.ledger.inUse(resource), reusable: reusable.get(resource) ?? [],
          });
          if (!choice.ok) throw new AdmissionFailure(choice.error);
          const endpoint = this.states.get(resource)?.endpoint;
          let preferred: string[] | undefined;
          if (choice.needed > 0 && endpoint?.options.get_preferred_allocation_available) {
            try {
              preferred = await endpoint.preferredAllocation([...choice.mustInclude, ...choice.candidates], choice.mustInclude, requested);
            } catch (err) {
              this.log.warn({ resource, pod: podName, err: (err as Error).message }, 'GetPreferredAllocation failed; choosing devices without advice');
            }
          }
          const entry: DeviceAllocation = { podUid, podName, podNamespace, containerName: demand.name, resource, deviceIds: pickDevices(choice, preferred) };
          this.ledger.add(entry);
          added.push(entry);
          updateReusable(reusable, demand.kind, resource, entry.deviceIds);
        }
      }
      for (const entry of added) {
        const endpoint = this.states.get(entry.resource)?.endpoint;
        if (!endpoint) throw new AdmissionFailure(`unknown Device Plugin ${entry.resource}`);
        entry.response = await endpoint.allocate(entry.deviceIds);
        this.log.info({ pod: podName, uid: podUid, container: entry.containerName, resource: entry.resource, devices: entry.deviceIds }, 'devices allocated');
      }
    } catch (err) {
      this.ledger.remove(added);
      const message = `Allocate failed due to ${(err as Error).message}, which is unexpected`;
      this.log.warn({ pod: podName, uid: podUid, reason: 'UnexpectedAdmissionError', message }, 'pod rejected by the device manager');
      return { admitted: false, reason: 'UnexpectedAdmissionError', message };
    }
    if (added.length) await this.persist();
    return { admitted: true };
  }

  async optionsFor(podUid: string, containerName: string): Promise<ContainerDeviceOptions | undefined> {
    const entries = this.ledger.ofContainer(podUid, containerName);
    if (!entries.length) return undefined;
    for (const entry of entries) {
      const endpoint = this.states.get(entry.resource)?.endpoint;
      if (endpoint?.options.pre_start_required) await endpoint.preStartContainer(entry.deviceIds);
    }
    return mergeAllocateResponses(entries.flatMap((e) => (e.response ? [e.response] : [])));
  }

  release(podUid: string): Promise<void> {
    return this.serialized(async () => {
      if (this.ledger.removePod(podUid)) {
        this.log.info({ uid: podUid }, 'devices released');
        await this.persist();
      }
    });
  }

  reconcile(activePodUids: Set<string>): Promise<void> {
    return this.serialized(async () => {
      let freed = 0;
      for (const uid of this.ledger.podUids()) {
        if (!activePodUids.has(uid)) freed += this.ledger.removePod(uid) > 0 ? 1 : 0;
      }
      if (freed) {
        this.log.info({ pods: freed }, 'devices of pods that are gone released');
        await this.persist();
      }
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn, fn);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /** Queues a checkpoint write of the current state; writes never overlap. */
  private persist(): Promise<void> {
    const registeredDevices: Record<string, string[]> = {};
    for (const [resource, state] of this.states) registeredDevices[resource] = sortDeviceIds(state.devices.keys());
    const data = { allocations: this.ledger.all().filter((e) => e.response).map((e) => ({ ...e })), registeredDevices };
    this.writes = this.writes.then(() => writeCheckpoint(this.checkpointPath, data)).catch((err) => {
      this.log.error({ err: (err as Error).message, path: this.checkpointPath }, 'cannot write device checkpoint');
    });
    return this.writes;
  }

  private podResourcesList(): PodResources[] {
    const devicesOf = (uid: string, container: string): PodResourcesContainerDevices[] =>
      this.ledger.ofContainer(uid, container).map((e) => ({ resource_name: e.resource, device_ids: [...e.deviceIds] }));
    if (this.opts.activePods) {
      return this.opts.activePods().map((p) => ({
        name: p.name, namespace: p.namespace, containers: p.containers.map((c) => ({ name: c, devices: devicesOf(p.uid, c) })),
      }));
    }
    return [...this.ledger.podUids()].map((uid) => {
      const entries = this.ledger.ofPod(uid);
      const containers = [...new Set(entries.map((e) => e.containerName))];
      return { name: entries[0].podName, namespace: entries[0].podNamespace, containers: containers.map((c) => ({ name: c, devices: devicesOf(uid, c) })) };
    });
  }

  private allocatableDevices(): PodResourcesContainerDevices[] {
    return [...this.states.keys()].sort().map((resource) => ({ resource_name: resource, device_ids: sortDeviceIds(this.healthyIds(resource)!) }));
  }

  async stop(): Promise<void> {
    for (const state of this.states.values()) {
      state.endpoint?.stop();
      if (state.removeTimer) clearTimeout(state.removeTimer);
    }
    await this.registration?.stop();
    await this.podResources?.stop();
    await this.serial;
    await this.writes;
  }
}

/** Starts the Registration server (and PodResources when asked) after restoring the checkpoint. */
export async function createDeviceManager(opts: DeviceManagerOptions): Promise<DeviceManager> {
  const manager = new PluginDeviceManager(opts);
  await manager.start();
  return manager;
}
