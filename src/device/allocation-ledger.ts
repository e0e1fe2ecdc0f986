// Who holds which device: one record per (pod, container, resource), with the plugin's
// Allocate answer kept so that the container's options survive an agent restart.
import type { ContainerAllocateResponse } from './protocol.ts';

export interface DeviceAllocation {
  podUid: string;
  podName: string;
  podNamespace: string;
  containerName: string;
  resource: string;
  deviceIds: string[];
  /** The plugin's Allocate answer; absent only while admission is in flight. */
  response?: ContainerAllocateResponse;
}

export class AllocationLedger {
  private readonly entries: DeviceAllocation[] = [];

  constructor(initial: DeviceAllocation[] = []) {
    this.entries.push(...initial.map((e) => ({ ...e, deviceIds: [...e.deviceIds] })));
  }

  all(): readonly DeviceAllocation[] {
    return this.entries;
  }

  add(entry: DeviceAllocation): void {
    this.entries.push(entry);
  }

  find(podUid: string, containerName: string, resource: string): DeviceAllocation | undefined {
    return this.entries.find((e) => e.podUid === podUid && e.containerName === containerName && e.resource === resource);
  }

  ofContainer(podUid: string, containerName: string): DeviceAllocation[] {
    return this.entries.filter((e) => e.podUid === podUid && e.containerName === containerName);
  }

  ofPod(podUid: string): DeviceAllocation[] {
    return this.entries.filter((e) => e.podUid === podUid);
  }

  hasPod(podUid: string): boolean {
    return this.entries.some((e) => e.podUid === podUid);
  }

  podUids(): Set<string> {
    return new Set(this.entries.map((e) => e.podUid));
  }

  /** Removes these exact records (an admission that failed half-way). */
  remove(records: readonly DeviceAllocation[]): void {
    for (const r of records) {
      const i = this.entries.indexOf(r);
      if (i >= 0) this.entries.splice(i, 1);
    }
  }

  /** Removes every record of the pod; returns how many there were. */
  removePod(podUid: string): number {
    let removed = 0;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].podUid === podUid) {
        this.entries.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /** Devices of `resource` held by anyone. */
  inUse(resource: string): Set<string> {
    const ids = new Set<string>();
    for (const e of this.entries) if (e.resource === resource) for (const id of e.deviceIds) ids.add(id);
    return ids;
  }
}
