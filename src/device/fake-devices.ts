// Fake devices that are nevertheless real device nodes: character devices with the
// major:minor of /dev/null (1:3), so a container given one can open, read and write it, and
// the runtime's device cgroup rules are exercised for real. Needs root (mknod).
import { execFile } from 'node:child_process';
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DeviceBackend } from './sample-plugin.ts';

const run = promisify(execFile);
const NULL_MAJOR = 1;
const NULL_MINOR = 3;

/** "example.com/fpga" → "EXAMPLE_COM_FPGA", the env var naming the allocated devices. */
export function resourceEnvName(resource: string): string {
  return resource.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** "example.com/fpga" → "fpga", the device name prefix. */
export function deviceNamePrefix(resource: string): string {
  return resource.slice(resource.indexOf('/') + 1).replace(/[^A-Za-z0-9_-]/g, '-') || 'device';
}

/** Creates (or reuses) `count` character devices <dir>/<prefix>0..N-1; returns their names. */
export async function createFakeDeviceNodes(dir: string, prefix: string, count: number): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}${i}`;
    const path = join(dir, name);
    const existing = await lstat(path).catch(() => undefined);
    if (existing && !existing.isCharacterDevice()) throw new Error(`${path} exists and is not a character device`);
    if (!existing) await run('mknod', ['-m', '0666', path, 'c', String(NULL_MAJOR), String(NULL_MINOR)]);
    names.push(name);
  }
  return names;
}

/** Backend for the sample plugin: each device is /dev/<name> in the container, plus an env
 * var listing the IDs, as vendors do (e.g. NVIDIA_VISIBLE_DEVICES). */
export async function fakeDeviceBackend(resource: string, count: number, devDir: string): Promise<DeviceBackend> {
  const names = await createFakeDeviceNodes(devDir, deviceNamePrefix(resource), count);
  const envName = resourceEnvName(resource);
  return {
    resource,
    deviceIds: names,
    allocate: (ids) => ({
      envs: { [envName]: ids.join(',') },
      mounts: [],
      devices: ids.map((id) => ({ host_path: join(devDir, id), container_path: `/dev/${id}`, permissions: 'rw' })),
      annotations: {},
      cdi_devices: [],
    }),
  };
}
