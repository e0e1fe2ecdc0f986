// subPath and subPathExpr, with the kubelet's rules: subPathExpr is expanded with $(VAR) from
// the container's environment and every variable must have a value; the result must be relative
// and without `..` elements; a missing subpath is made as a directory with the volume's mode;
// symlinks on the way are followed but must stay inside the volume. The mount then uses the
// resolved path, so a subPath into a configMap pins the file itself and does not see updates.
import { chmod, lstat, mkdir, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { V1VolumeMount } from '@kubernetes/client-node';
import { expandVars } from '../cri/runtime-manager/env-expansion.ts';
import { ContainerMountError } from './pod-volumes.ts';

/** The mount's subpath ('' for none), expanded and checked. */
export function effectiveSubPath(mount: V1VolumeMount, env: ReadonlyArray<{ key: string; value: string }>): string {
  let subPath = mount.subPath ?? '';
  if (mount.subPathExpr) {
    const values = new Map(env.map(e => [e.key, e.value]));
    const missing = new Set<string>();
    subPath = expandVars(mount.subPathExpr, name => {
      const value = values.get(name);
      if (!value) missing.add(name);
      return value ?? '';
    });
    if (missing.size) throw new ContainerMountError(`missing value for ${[...missing].sort().join(', ')}`);
  }
  if (subPath === '') return '';
  if (subPath.startsWith('/')) throw new ContainerMountError(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split('/').includes('..')) throw new ContainerMountError(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
  return subPath;
}

/** The host path of volumePath/subPath, made when missing, refused when it leaves the volume. */
export async function resolveSubPath(volumePath: string, subPath: string): Promise<string> {
  const root = await realpath(volumePath);
  const mode = (await lstat(root)).mode & 0o7777;
  let current = root;
  for (const part of subPath.split('/').filter(p => p !== '' && p !== '.')) {
    const next = join(current, part);
    const exists = await lstat(next).then(() => true, () => false);
    if (!exists) {
      await mkdir(next, { mode });
      await chmod(next, mode);
      current = next;
      continue;
    }
    current = await realpath(next).catch(() => {
      throw new ContainerMountError(`subpath "${subPath}" of volume path "${volumePath}" is a dangling symlink`);
    });
    if (!isInside(current, root)) throw new ContainerMountError(`subpath "${current}" not within volume path "${root}"`);
  }
  return current;
}

export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}
