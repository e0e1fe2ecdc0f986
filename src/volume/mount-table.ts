// Mounts, read from /proc/self/mountinfo and made with the mount(8)/umount(8) binaries through
// execFile in a helper process (tool-runner.ts; no shell: paths are passed as arguments, never parsed).
import { readFile, realpath, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createToolRunner } from './tool-runner.ts';

const tools = createToolRunner(['mount', 'umount']);
const run = (file: string, args: string[]) => tools.run(file, args);

export interface MountEntry {
  mountPoint: string;
  fsType: string;
}

/** Parses mountinfo lines: field 5 is the mount point (octal-escaped), the type follows the ` - `. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    const fields = left!.split(' ');
    if (fields.length < 5 || !right) continue;
    out.push({ mountPoint: unescapeOctal(fields[4]!), fsType: right.split(' ')[0]! });
  }
  return out;
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export async function readMounts(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** A path as mountinfo writes it: space, tab, newline and backslash as octal escapes. */
export function escapeMountPath(path: string): string {
  return path.replace(/[ \t\n\\]/g, c => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/**
 * The entries of mountinfo text at or under dir, deepest first (the order to unmount them in).
 * Only lines that name dir are parsed: a node with thousands of pods has thousands of mounts,
 * and every pod's removal asks this.
 */
export function mountsUnderIn(text: string, dir: string): MountEntry[] {
  const needle = ` ${escapeMountPath(dir)}`;
  if (!text.includes(needle)) return [];
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return parseMountInfo(text.split('\n').filter(line => line.includes(needle)).join('\n'))
    .filter(m => m.mountPoint === dir || m.mountPoint.startsWith(prefix))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length);
}

/** Mount points at or under dir, deepest first (the order to unmount them in). */
export async function mountsUnder(path: string): Promise<MountEntry[]> {
  // mountinfo shows resolved paths; the root dir may sit behind a symlink.
  const dir = await realpath(path).catch(() => path);
  return mountsUnderIn(await readFile('/proc/self/mountinfo', 'utf8'), dir);
}

/** Whether path is likely a mount point: on another device than its parent (the kubelet's
 * IsLikelyNotMountPoint, negated; a bind mount of the same filesystem is not seen). */
export async function isLikelyMountPoint(path: string): Promise<boolean> {
  const dir = await realpath(path).catch(() => path);
  if (dir === dirname(dir)) return true;
  try {
    const [self, parent] = await Promise.all([stat(dir), stat(dirname(dir))]);
    return self.dev !== parent.dev;
  } catch {
    return false;
  }
}

/** statfs f_type of tmpfs (linux/magic.h TMPFS_MAGIC). */
const TMPFS_MAGIC = 0x01021994;

/** Whether path is itself a tmpfs mount point: on another device than its parent, and tmpfs.
 * Asked of the path alone, never of the whole mount table (which grows with the pods). */
export async function isTmpfsMountPoint(path: string): Promise<boolean> {
  const dir = await realpath(path).catch(() => path);
  try {
    const [self, parent] = await Promise.all([stat(dir), stat(dirname(dir))]);
    if (dir === dirname(dir) || self.dev === parent.dev) return false;
    return (await statfs(dir)).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

export async function mountTmpfs(dir: string, sizeBytes: number | undefined): Promise<void> {
  const args = ['-t', 'tmpfs'];
  if (sizeBytes !== undefined) args.push('-o', `size=${sizeBytes}`);
  await run('mount', [...args, 'tmpfs', dir]);
}

/** Unmounts; a mount still busy (a container holding it) is detached lazily (MNT_DETACH). */
export async function unmount(dir: string): Promise<void> {
  try {
    await run('umount', [dir]);
  } catch {
    await run('umount', ['-l', dir]);
  }
}
