// NVIDIA mode of the sample plugin: finds GPUs as the driver exposes them (/dev/nvidia0,
// /dev/nvidia1, ... plus the shared control nodes), names them by UUID when nvidia-smi can
// tell, and serves them as nvidia.com/gpu the way NVIDIA's plugin does with its default
// envvar strategy: device nodes into the container and NVIDIA_VISIBLE_DEVICES.
import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DeviceBackend } from './sample-plugin.ts';

const run = promisify(execFile);

export const NVIDIA_RESOURCE = 'nvidia.com/gpu';
/** Nodes every GPU container needs besides its own /dev/nvidiaN, when the driver made them. */
const CONTROL_NODES = ['nvidiactl', 'nvidia-uvm', 'nvidia-uvm-tools', 'nvidia-modeset'];

export interface NvidiaGpu {
  index: number;
  /** UUID from nvidia-smi when known, else the node name ("nvidia0"). */
  id: string;
  /** Device node name under <root>/dev. */
  node: string;
  model?: string;
}

export interface NvidiaDiscovery {
  gpus: NvidiaGpu[];
  /** Control node names present under <root>/dev. */
  controlNodes: string[];
}

async function isCharDevice(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isCharacterDevice() ?? false;
}

/** Parses `nvidia-smi --query-gpu=index,uuid,name --format=csv,noheader`. */
export function parseNvidiaSmi(output: string): Map<number, { uuid: string; model: string }> {
  const out = new Map<number, { uuid: string; model: string }>();
  for (const line of output.split('\n')) {
    const [index, uuid, ...model] = line.split(',').map((s) => s.trim());
    if (/^\d+$/.test(index ?? '') && uuid) out.set(Number(index), { uuid, model: model.join(',') });
  }
  return out;
}

/** Asks nvidia-smi for UUIDs; an empty map when it is absent or fails. */
export async function queryNvidiaSmi(): Promise<Map<number, { uuid: string; model: string }>> {
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=index,uuid,name', '--format=csv,noheader'], { timeout: 15_000 });
    return parseNvidiaSmi(stdout);
  } catch {
    return new Map();
  }
}

/** Looks under <root>/dev. `useNvidiaSmi` defaults to true only for the real root, since a
 * test tree's GPUs are not the ones nvidia-smi sees. */
export async function discoverNvidiaGpus(root = '/', useNvidiaSmi = root === '/'): Promise<NvidiaDiscovery> {
  const devDir = join(root, 'dev');
  const entries = await readdir(devDir).catch(() => [] as string[]);
  const gpus: NvidiaGpu[] = [];
  const smi = useNvidiaSmi ? await queryNvidiaSmi() : new Map<number, { uuid: string; model: string }>();
  for (const name of entries) {
    const m = /^nvidia(\d+)$/.exec(name);
    if (!m || !(await isCharDevice(join(devDir, name)))) continue;
    const index = Number(m[1]);
    const info = smi.get(index);
    gpus.push({ index, id: info?.uuid ?? name, node: name, model: info?.model });
  }
  gpus.sort((a, b) => a.index - b.index);
  const controlNodes: string[] = [];
  for (const name of CONTROL_NODES) if (await isCharDevice(join(devDir, name))) controlNodes.push(name);
  return { gpus, controlNodes };
}

export function nvidiaBackend(found: NvidiaDiscovery, root = '/'): DeviceBackend {
  const byId = new Map(found.gpus.map((g) => [g.id, g]));
  const spec = (node: string) => ({ host_path: join(root, 'dev', node), container_path: `/dev/${node}`, permissions: 'rw' });
  return {
    resource: NVIDIA_RESOURCE,
    deviceIds: found.gpus.map((g) => g.id),
    allocate: (ids) => ({
      envs: { NVIDIA_VISIBLE_DEVICES: ids.join(',') },
      mounts: [],
      devices: [...ids.map((id) => spec(byId.get(id)?.node ?? id)), ...found.controlNodes.map(spec)],
      annotations: {},
      cdi_devices: [],
    }),
  };
}
