// The pure part of device allocation: which containers of a pod want how many devices, and
// which device IDs to give one container, by the kubelet's rules. No I/O here; the device
// manager feeds it state and plugin advice (GetPreferredAllocation) and records the result.
import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** How a container's devices live on: init containers run one after another, so their devices
 * go back to a pool the next containers of the same pod reuse; sidecars (restartable init
 * containers) and app containers keep theirs for the pod's life. */
export type ContainerKind = 'init' | 'sidecar' | 'app';

export interface ContainerDemand {
  name: string;
  kind: ContainerKind;
  /** Extended resource → device count (from limits; the API server makes requests equal them). */
  devices: Record<string, number>;
}

/** The containers of `pod` that ask for device resources, in the order the kubelet allocates:
 * init containers first, then app containers. `isDeviceResource` picks the names to consider. */
export function containerDemands(pod: V1Pod, isDeviceResource: (name: string) => boolean): ContainerDemand[] {
  const out: ContainerDemand[] = [];
  const add = (c: V1Container, kind: ContainerKind) => {
    const devices: Record<string, number> = {};
    for (const [name, quantity] of Object.entries(c.resources?.limits ?? {})) {
      if (!isDeviceResource(name)) continue;
      const count = Number(quantity);
      if (Number.isInteger(count) && count > 0) devices[name] = count;
    }
    if (Object.keys(devices).length) out.push({ name: c.name, kind, devices });
  };
  for (const c of pod.spec?.initContainers ?? []) add(c, c.restartPolicy === 'Always' ? 'sidecar' : 'init');
  for (const c of pod.spec?.containers ?? []) add(c, 'app');
  return out;
}

export interface AllocationInput {
  resource: string;
  requested: number;
  /** Healthy devices of the resource; undefined when no plugin ever registered it. */
  healthy: ReadonlySet<string> | undefined;
  /** Devices held by any container of any pod (this pod's init containers included). */
  inUse: ReadonlySet<string>;
  /** Devices this pod's finished init containers left for reuse. */
  reusable: readonly string[];
}

export type AllocationChoice =
  | { ok: true; mustInclude: string[]; candidates: string[]; needed: number }
  | { ok: false; error: string };

/** Natural order, so fpga2 comes before fpga10. */
export function sortDeviceIds(ids: Iterable<string>): string[] {
  return [...ids].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** What may be given to one container for one resource. Error texts are the kubelet's (the
 * admission message wraps them as "Allocate failed due to <error>, which is unexpected"). */
export function devicesToAllocate(input: AllocationInput): AllocationChoice {
  const { resource, requested, healthy, inUse } = input;
  if (!healthy) return { ok: false, error: `cannot allocate unregistered device ${resource}` };
  const reusable = input.reusable.filter((id) => healthy.has(id));
  if (reusable.length >= requested) return { ok: true, mustInclude: reusable.slice(0, requested), candidates: [], needed: 0 };
  const needed = requested - reusable.length;
  if (healthy.size === 0) return { ok: false, error: `no healthy devices present; cannot allocate unhealthy devices ${resource}` };
  const candidates = sortDeviceIds([...healthy].filter((id) => !inUse.has(id)));
  if (candidates.length < needed) {
    return { ok: false, error: `requested number of devices unavailable for ${resource}. Requested: ${needed}, Available: ${candidates.length}` };
  }
  return { ok: true, mustInclude: reusable, candidates, needed };
}

/** The final pick: every must-include device, then the plugin's preferred ones where they are
 * free, then the lowest free IDs. A preference naming busy or unknown devices is ignored
 * for those devices, as the kubelet only takes advice that fits. */
export function pickDevices(choice: { mustInclude: string[]; candidates: string[]; needed: number }, preferred?: readonly string[]): string[] {
  const picked = [...choice.mustInclude];
  const free = new Set(choice.candidates);
  const take = (id: string) => {
    if (picked.length - choice.mustInclude.length >= choice.needed) return;
    if (free.has(id) && !picked.includes(id)) picked.push(id);
  };
  for (const id of preferred ?? []) take(id);
  for (const id of choice.candidates) take(id);
  return picked;
}

/** Updates the pod's reuse pool after a container got `ids`: init containers hand their
 * devices on; sidecars and app containers keep them, so they leave the pool. */
export function updateReusable(pool: Map<string, string[]>, kind: ContainerKind, resource: string, ids: readonly string[]): void {
  const current = pool.get(resource) ?? [];
  const next = kind === 'init' ? [...new Set([...current, ...ids])] : current.filter((id) => !ids.includes(id));
  pool.set(resource, next);
}
