// Mounts, read from /proc/self/mountinfo and made with the mount(8)/umount(8) binaries through
// execFile (no shell: paths are passed as arguments, never parsed).
import { execFile } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

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

/** Mount points at or under dir, deepest first (the order to unmount them in). */
export async function mountsUnder(path: string): Promise<MountEntry[]> {
  // mountinfo shows resolved paths; the root dir may sit behind a symlink.
  const dir = await realpath(path).catch(() => path);
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return (await readMounts())
    .filter(m => m.mountPoint === dir || m.mountPoint.startsWith(prefix))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length);
}

export async function isTmpfsMountPoint(path: string): Promise<boolean> {
  const dir = await realpath(path).catch(() => path);
  return (await readMounts()).some(m => m.mountPoint === dir && m.fsType === 'tmpfs');
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
