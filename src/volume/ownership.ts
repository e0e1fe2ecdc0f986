// fsGroup, as the kubelet's SetVolumeOwnership applies it: every entry of the volume gets the
// group; files get group read-write (group read on the read-only types: configMap, secret,
// downwardAPI, projected), directories also setgid and group search, so that files the
// containers create later inherit the group. Symlinks get the group but never a chmod (a chmod
// would follow the link and change the file's mode).
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

/** The mode an entry ends with under fsGroup. */
export function ownershipMode(mode: number, isDirectory: boolean, readOnly: boolean): number {
  let mask = readOnly ? RO_MASK : RW_MASK;
  if (isDirectory) mask |= SETGID | EXEC_MASK;
  return (mode & 0o7777) | mask;
}

/** fsGroupChangePolicy OnRootMismatch: skip the walk when the root already has the group and the bits. */
export async function ownershipSettled(dir: string, fsGroup: number, readOnly: boolean): Promise<boolean> {
  const st = await lstat(dir);
  const mode = st.mode & 0o7777;
  return st.gid === fsGroup && mode === ownershipMode(mode, true, readOnly);
}

export async function setVolumeOwnership(dir: string, fsGroup: number, readOnly: boolean): Promise<void> {
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    await lchown(path, st.uid, fsGroup);
    if (st.isSymbolicLink()) return;
    await chmod(path, ownershipMode(st.mode, st.isDirectory(), readOnly));
    if (st.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(dir);
}
