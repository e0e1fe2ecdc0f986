// CRI container log files (kubelet layout <podLogsDir>/<ns>_<pod>_<uid>/<container>/<attempt>.log)
// and their line format: "<RFC3339Nano time> <stdout|stderr> <P|F> <text>", where P marks a
// partial line that the next entry continues.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';

/** Plain text of a CRI log file: prefixes stripped, partial lines joined. */
export function stripCriLog(content: string): string {
  let out = '';
  for (const line of content.split('\n')) {
    if (!line) continue;
    const m = /^(\S+) (stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (!m) {
      out += `${line}\n`;
      continue;
    }
    out += m[3] === 'P' ? m[4] : `${m[4]}\n`;
  }
  return out;
}

export function tail(text: string, lines: number | undefined): string {
  if (lines === undefined) return text;
  if (lines <= 0) return '';
  const all = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return `${all.slice(-lines).join('\n')}\n`;
}

/**
 * <podLogsDir>/<ns>_<pod>_<uid>/<container>, or undefined when the names would lead anywhere
 * else. Callers validate the names first; this is the last line: whatever a name holds,
 * nothing outside the pod's own directory is read.
 */
export function containerLogDir(podLogsDir: string, namespace: string, podName: string, uid: string, container: string): string | undefined {
  const podDirName = `${namespace}_${podName}_${uid}`;
  for (const part of [podDirName, container]) {
    if (!part || part === '.' || part === '..' || part.includes('/') || part.includes('\\') || part.includes('\0')) return undefined;
  }
  const base = resolve(podLogsDir);
  const dir = resolve(base, podDirName, container);
  const rel = relative(base, dir);
  if (rel !== join(podDirName, container) || rel.startsWith(`..${sep}`)) return undefined;
  return dir;
}

/** The log of the newest container attempt (or the one before it, for `previous`). */
export async function readContainerLog(podLogsDir: string, namespace: string, podName: string, uid: string, container: string, previous = false): Promise<string | undefined> {
  const dir = containerLogDir(podLogsDir, namespace, podName, uid, container);
  if (!dir) return undefined;
  let attempts: number[];
  try {
    attempts = (await readdir(dir)).map((f) => /^(\d+)\.log$/.exec(f)?.[1]).filter((n): n is string => n !== undefined).map(Number).sort((a, b) => b - a);
  } catch {
    return undefined;
  }
  const attempt = attempts[previous ? 1 : 0];
  if (attempt === undefined) return undefined;
  return stripCriLog(await readFile(join(dir, `${attempt}.log`), 'utf8'));
}
