// Merges the Allocate answers of every resource a container holds into the options the
// runtime manager injects. Later answers do not override earlier device or mount paths, as
// the kubelet keeps the first claim on a container path.
import type { ContainerDeviceOptions } from './container-devices.ts';
import type { ContainerAllocateResponse } from './protocol.ts';

export function mergeAllocateResponses(responses: readonly ContainerAllocateResponse[]): ContainerDeviceOptions {
  const out: ContainerDeviceOptions = { devices: [], mounts: [], envs: {}, annotations: {}, cdiDevices: [] };
  const devicePaths = new Set<string>();
  const mountPaths = new Set<string>();
  for (const r of responses) {
    for (const d of r.devices ?? []) {
      if (devicePaths.has(d.container_path)) continue;
      devicePaths.add(d.container_path);
      out.devices.push({ hostPath: d.host_path, containerPath: d.container_path, permissions: d.permissions || 'rwm' });
    }
    for (const m of r.mounts ?? []) {
      if (mountPaths.has(m.container_path)) continue;
      mountPaths.add(m.container_path);
      out.mounts.push({ hostPath: m.host_path, containerPath: m.container_path, readOnly: Boolean(m.read_only) });
    }
    Object.assign(out.envs, r.envs ?? {});
    Object.assign(out.annotations, r.annotations ?? {});
    for (const c of r.cdi_devices ?? []) if (c.name && !out.cdiDevices.includes(c.name)) out.cdiDevices.push(c.name);
  }
  return out;
}
