// hostPath type checks, as the kubelet makes them before a hostPath volume is used: *OrCreate
// types make what is missing (directory 0755, empty file 0644), the others only check, and a
// failed check names the path and what it is not. Type "" checks nothing.
import { chmod, mkdir, open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { VolumeContentError } from './setup-errors.ts';

export type HostPathKind = 'directory' | 'file' | 'socket' | 'char' | 'block' | 'other';

export type HostPathDecision = { action: 'none' | 'mkdir' | 'touch' } | { error: string };

/** What a hostPath of `type` needs, given what is at `path` now (undefined: nothing). */
export function hostPathDecision(type: string | undefined, path: string, kind: HostPathKind | undefined): HostPathDecision {
  const fail = (what: string): HostPathDecision => ({ error: `hostPath type check failed: ${path} is not ${what}` });
  switch (type ?? '') {
    case '': return { action: 'none' };
    // *OrCreate: make what is missing; whatever exists must already be of the right kind.
    case 'DirectoryOrCreate': return !kind ? { action: 'mkdir' } : kind === 'directory' ? { action: 'none' } : fail('a directory');
    case 'Directory': return kind === 'directory' ? { action: 'none' } : fail('a directory');
    case 'FileOrCreate': return !kind ? { action: 'touch' } : kind !== 'directory' ? { action: 'none' } : fail('a file');
    case 'File': return kind && kind !== 'directory' ? { action: 'none' } : fail('a file');
    case 'Socket': return kind === 'socket' ? { action: 'none' } : fail('a socket file');
    case 'CharDevice': return kind === 'char' ? { action: 'none' } : fail('a character device');
    case 'BlockDevice': return kind === 'block' ? { action: 'none' } : fail('a block device');
    default: return { error: `${type} is an invalid volume type` };
  }
}

export function hostPathKind(st: Stats): HostPathKind {
  if (st.isDirectory()) return 'directory';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFile()) return 'file';
  return 'other';
}

/** Checks (and for *OrCreate makes) the host path. Follows symlinks, as the kubelet's stat does. */
export async function prepareHostPath(path: string, type: string | undefined): Promise<void> {
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const decision = hostPathDecision(type, path, st && hostPathKind(st));
  if ('error' in decision) throw new VolumeContentError(decision.error);
  if (decision.action === 'mkdir') {
    await mkdir(path, { recursive: true, mode: 0o755 });
    await chmod(path, 0o755);
  } else if (decision.action === 'touch') {
    await (await open(path, 'a', 0o644)).close();
    await chmod(path, 0o644);
  }
}
