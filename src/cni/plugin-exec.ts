// Running one plugin binary: found in the --cni-bin-dir list, started with execFile (no
// shell), fed its config on stdin, killed after a timeout. Exit 0 means stdout is the answer;
// anything else becomes a CniPluginError from the error object the plugin printed.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { CniErrorCode, CniPluginError } from './errors.ts';
import { parseCniError } from './result.ts';

export const DEFAULT_PLUGIN_TIMEOUT_MS = 60_000;

/** The first executable named `type` in binDirs. */
export async function findPlugin(binDirs: string[], type: string): Promise<string> {
  for (const dir of binDirs) {
    const path = join(dir, type);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // Not here; try the next directory.
    }
  }
  throw new CniPluginError(CniErrorCode.pluginNotAvailable, `plugin "${type}" not found`, `searched ${binDirs.join(', ') || '(no directories)'}`, type);
}

/** Run the plugin and return its stdout, or throw the CNI error it reported. */
export function execPlugin(path: string, type: string, env: Record<string, string>, stdin: string, timeoutMs = DEFAULT_PLUGIN_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(path, [], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string };
      if (e.killed || e.signal) {
        return reject(new CniPluginError(CniErrorCode.tryAgainLater, `timed out or was killed after ${timeoutMs} ms`, stderr.trim(), type));
      }
      if (typeof e.code === 'string') {
        return reject(new CniPluginError(CniErrorCode.pluginNotAvailable, `cannot run ${path}: ${e.message}`, '', type));
      }
      reject(parseCniError(stdout, stderr, type, `exited with code ${e.code}`));
    });
    // A plugin that ignores stdin may close it before we finish writing: that is not our error.
    child.stdin?.on('error', () => {});
    child.stdin?.end(stdin);
  });
}

/** A --cni-bin-dir value as a list: "a,b" or "a:b" (kubelet used commas; CNI_PATH uses colons). */
export function splitBinDirs(value: string): string[] {
  return value.split(/[,:]/).map((d) => d.trim()).filter(Boolean);
}
