// The kubelet's atomic writer: a volume's files live in a hidden timestamped directory
// (`..2024_05_01_12_00_00.xyz`), `..data` is a symlink to it, and every user-visible name is a
// symlink through `..data` (`key -> ..data/key`; for `dir/key` the top-level `dir` is the link).
// An update writes a new timestamped directory and renames a fresh `..data_tmp` link over
// `..data`: rename is atomic, so a reader sees the old set of files or the new one, never a mix.
// Nothing is written when content and modes are unchanged, so calling it on every sync is cheap.
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** Permission bits (e.g. 0o644), applied exactly, whatever the umask. */
  mode: number;
}

/** Relative path (may be nested) → content. */
export type Payload = Map<string, FileProjection>;

export const DATA_DIR = '..data';
const NEW_DATA_DIR = '..data_tmp';
const MAX_NAME = 255;
const MAX_PATH = 4096;

/** A payload path must be relative, without `..` elements, not starting with `..`; returns it cleaned. */
export function cleanPayloadPath(path: string): string {
  if (path === '') throw new Error('invalid path: must not be empty');
  if (path.startsWith('/')) throw new Error(`invalid path: must be relative path: ${path}`);
  if (path.length > MAX_PATH) throw new Error(`invalid path: must be less than or equal to ${MAX_PATH} characters`);
  const parts = path.split('/');
  if (parts.includes('..')) throw new Error(`invalid path: must not contain '..': ${path}`);
  if (parts.some(p => p.length > MAX_NAME)) throw new Error(`invalid path: filenames must be less than or equal to ${MAX_NAME} characters`);
  if (parts[0]!.startsWith('..')) throw new Error(`invalid path: must not start with '..': ${path}`);
  return posix.normalize(path).replace(/\/+$/, '');
}

/** The names directly under the volume directory that the payload's paths need. */
export function userVisibleNames(paths: Iterable<string>): Set<string> {
  return new Set([...paths].map(p => p.split('/')[0]!));
}

export interface WritePlan {
  /** A new timestamped directory is needed: a file was added, removed, or changed content or mode. */
  write: boolean;
  /** User-visible names the new payload no longer has. */
  removeNames: string[];
}

/**
 * What an update must do, from the payload and the files now under `..data` (undefined when the
 * volume was never written). `finalMode` maps a payload mode to the mode the file ends with
 * (fsGroup ownership adds group bits), so an unchanged volume compares equal.
 */
export function planWrite(payload: Payload, current: ReadonlyMap<string, FileProjection> | undefined, finalMode: (mode: number) => number = m => m): WritePlan {
  if (!current) return { write: true, removeNames: [] };
  const wanted = userVisibleNames(payload.keys());
  const removeNames = [...userVisibleNames(current.keys())].filter(n => !wanted.has(n)).sort();
  let write = current.size !== payload.size;
  for (const [path, file] of payload) {
    if (write) break;
    const now = current.get(path);
    write = !now || !now.data.equals(file.data) || now.mode !== finalMode(file.mode);
  }
  return { write, removeNames };
}

/** `..YYYY_MM_DD_HH_MM_SS.` in UTC: the prefix of a timestamped directory (a random suffix follows). */
export function timestampDirPrefix(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

export interface AtomicWriteOptions {
  now: Date;
  finalMode?: (mode: number) => number;
  /** Runs on the volume after the new files are written and before they become visible (fsGroup ownership). */
  setPermissions?: () => Promise<void>;
}

/** Projects the payload into targetDir (which must exist). Returns whether anything changed on disk. */
export async function writeAtomically(targetDir: string, payload: Payload, options: AtomicWriteOptions): Promise<boolean> {
  const clean: Payload = new Map();
  for (const [path, file] of payload) clean.set(cleanPayloadPath(path), file);

  const oldTsName = await readlink(join(targetDir, DATA_DIR)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const current = oldTsName ? await readFiles(join(targetDir, oldTsName)) : undefined;
  const plan = planWrite(clean, current, options.finalMode);
  if (!plan.write && plan.removeNames.length === 0) return false;

  if (plan.write) {
    const tsDir = await mkdtemp(join(targetDir, timestampDirPrefix(options.now)));
    try {
      // 0755 so that group and others can walk to the files, whatever the umask.
      await chmod(tsDir, 0o755);
      for (const [path, file] of clean) {
        const full = join(tsDir, path);
        await mkdir(dirname(full), { recursive: true, mode: 0o755 });
        await writeFile(full, file.data, { mode: file.mode });
        await chmod(full, file.mode);
      }
      await options.setPermissions?.();
      const newLink = join(targetDir, NEW_DATA_DIR);
      await rm(newLink, { force: true });
      await symlink(posix.basename(tsDir), newLink);
      await rename(newLink, join(targetDir, DATA_DIR));
    } catch (err) {
      await rm(tsDir, { recursive: true, force: true });
      throw err;
    }
    // After the swap, so that a new name never points at a file the old directory lacks.
    for (const name of userVisibleNames(clean.keys())) {
      const link = join(targetDir, name);
      if (!(await exists(link))) await symlink(posix.join(DATA_DIR, name), link);
    }
  }
  for (const name of plan.removeNames) await rm(join(targetDir, name), { recursive: true, force: true });
  if (plan.write && oldTsName) await rm(join(targetDir, oldTsName), { recursive: true, force: true });
  return true;
}

/** The regular files under a timestamped directory, by path relative to it. */
async function readFiles(dir: string): Promise<Map<string, FileProjection> | undefined> {
  const out = new Map<string, FileProjection>();
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        const full = join(dir, path);
        const [data, st] = await Promise.all([readFile(full), lstat(full)]);
        out.set(path, { data, mode: st.mode & 0o7777 });
      }
    }
  };
  try {
    await walk('');
  } catch (err) {
    // `..data` points at a directory that is gone: treat the volume as never written.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}
