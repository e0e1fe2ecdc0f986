// The files: the kubelet's layout <podLogsDir>/<ns>_<pod>_<uid>/<container>/<attempt>.log, which
// instance's file a request means, and the file streamed (never read whole), with follow reading
// on as it grows until the container has stopped and the file is drained.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, type FileHandle } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { parseCriLine } from './cri-line.ts';
import type { LogOptions } from './log-options.ts';
import { LogSelector } from './log-selection.ts';

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

/** The attempts that have a log file in a container's log directory, newest first. */
export async function logAttempts(dir: string): Promise<number[]> {
  try {
    return (await readdir(dir)).map((f) => /^(\d{1,9})\.log$/.exec(f)?.[1]).filter((n): n is string => n !== undefined).map(Number).sort((a, b) => b - a);
  } catch {
    return [];
  }
}

/** Which container instance's log to serve (the kubelet's validateContainerLogStatus). */
export type LogInstance =
  | { ok: true; containerId: string; /** The newest instance (its attempt is the restart count), or the one before it. */ newest: boolean; restartCount: number }
  | { ok: false; message: string };

/**
 * From the pod's status: `previous` is lastState's instance; otherwise the running one, else the
 * terminated one, else lastState's (a container in CrashLoopBackOff shows its last run). Undefined
 * when the pod has no status for its containers at all (the agent has not synced it yet).
 */
export function chooseLogInstance(pod: V1Pod, container: string, previous: boolean): LogInstance | undefined {
  const s = pod.status;
  const lists = [s?.containerStatuses, s?.initContainerStatuses, s?.ephemeralContainerStatuses];
  if (lists.every((l) => !l?.length)) return undefined;
  const podName = pod.metadata?.name ?? '';
  const cs: V1ContainerStatus | undefined = lists.flatMap((l) => l ?? []).find((c) => c.name === container);
  if (!cs) return { ok: false, message: `container "${container}" in pod "${podName}" is not available` };
  const pick = (id: string | undefined): LogInstance => ({ ok: true, containerId: id!, newest: id === cs.containerID, restartCount: cs.restartCount ?? 0 });
  const last = cs.lastState?.terminated;
  const { waiting, running, terminated } = cs.state ?? {};
  if (previous) {
    if (!last?.containerID) return { ok: false, message: `previous terminated container "${container}" in pod "${podName}" not found` };
    return pick(last.containerID);
  }
  if (running) return pick(cs.containerID);
  if (terminated) {
    if (terminated.containerID) return pick(terminated.containerID);
    if (last?.containerID) return pick(last.containerID);
    return { ok: false, message: `container "${container}" in pod "${podName}" is terminated` };
  }
  if (last) {
    if (!last.containerID) return { ok: false, message: `container "${container}" in pod "${podName}" is terminated` };
    return pick(last.containerID);
  }
  if (waiting) {
    if (waiting.reason === 'ErrImagePull') return { ok: false, message: `container "${container}" in pod "${podName}" is waiting to start: image can't be pulled` };
    if (waiting.reason === 'ImagePullBackOff') return { ok: false, message: `container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image` };
    return { ok: false, message: `container "${container}" in pod "${podName}" is waiting to start: ${waiting.reason ?? ''}` };
  }
  return { ok: false, message: `container "${container}" in pod "${podName}" is waiting to start - no logs yet` };
}

/**
 * The attempt whose file holds an instance's log: the newest instance's attempt is the restart
 * count; the one before it is the newest file older than that. Without a status, the files as
 * they lie: the newest, or the one before it for `previous`.
 */
export function attemptFor(attempts: number[], instance: LogInstance | undefined, previous: boolean): number | undefined {
  if (!instance) return attempts[previous ? 1 : 0];
  if (!instance.ok) return undefined;
  if (instance.newest) return attempts.includes(instance.restartCount) ? instance.restartCount : undefined;
  return attempts.find((a) => a < instance.restartCount);
}

/** Where the last `lines` lines of an open file start, read backwards in blocks. */
export async function findTailStart(fh: FileHandle, size: number, lines: number, blockSize = 64 * 1024): Promise<number> {
  // Count '\n's backwards until there are more than `lines` of them past the candidate start
  // (a final '\n' ends the last line, it does not start one).
  const endsWithNewline = size > 0 && (await readAt(fh, size - 1, 1))[0] === 0x0a;
  const wanted = endsWithNewline ? lines + 1 : lines;
  if (wanted === 0) return size;
  let count = 0;
  let right = size;
  while (right > 0) {
    const left = Math.max(0, right - blockSize);
    const block = await readAt(fh, left, right - left);
    for (let i = block.length - 1; i >= 0; i--) {
      if (block[i] !== 0x0a) continue;
      count++;
      if (count === wanted) return left + i + 1;
    }
    right = left;
  }
  return 0;
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

export interface StreamLogOptions extends LogOptions {
  /** Whether the container instance still runs; asked at each end of the file when following. */
  running: () => boolean | Promise<boolean>;
  /** Writes one chunk; resolves once the client can take more. */
  write: (chunk: Buffer) => Promise<void>;
  /** Aborted when the client has gone: the stream stops, its handles close. */
  signal: AbortSignal;
  /** How often the file is looked at again without a change event (the kubelet's 1 s). */
  recheckMs?: number;
}

/**
 * Streams an open log file (the caller opened it, this closes it) under the options. Following,
 * it waits for the file to change (fs.watch, with a timed recheck so a missed or unsupported
 * event delays by at most recheckMs), and ends once the container has stopped and the file is
 * drained, or when the signal aborts.
 */
export async function streamLogFile(fh: FileHandle, path: string, opts: StreamLogOptions): Promise<void> {
  const { signal } = opts;
  const recheckMs = opts.recheckMs ?? 1000;
  let watcher: FSWatcher | undefined;
  let watchTried = false;
  let changed = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    changed = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  signal.addEventListener('abort', poke);
  try {
    const { size } = await fh.stat();
    let pos = opts.tailLines === undefined ? 0 : await findTailStart(fh, size, opts.tailLines);
    const selector = new LogSelector(opts);
    // Without follow, tailLines also stops the read: lines written meanwhile are not shown.
    let limited = opts.tailLines !== undefined && !opts.follow ? opts.tailLines : Number.POSITIVE_INFINITY;
    if (limited === 0) return;
    let carry: Buffer = Buffer.alloc(0);
    const block = Buffer.alloc(64 * 1024);
    let draining = false;
    const emit = async (line: Buffer): Promise<boolean> => {
      const entry = parseCriLine(line);
      if (!entry) return true;
      const out = selector.take(entry);
      if (out.length) await opts.write(out);
      if (selector.done) return false;
      return --limited > 0;
    };
    for (;;) {
      if (signal.aborted) return;
      const { bytesRead } = await fh.read(block, 0, block.length, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        carry = Buffer.concat([carry, block.subarray(0, bytesRead)]);
        let start = 0;
        for (let nl = carry.indexOf(0x0a); nl >= 0; nl = carry.indexOf(0x0a, start)) {
          const line = carry.subarray(start, nl);
          start = nl + 1;
          if (!(await emit(line)) || signal.aborted) return;
        }
        carry = carry.subarray(start);
        continue;
      }
      // The end of the file, for now.
      if (!opts.follow) {
        if (carry.length) await emit(carry);
        return;
      }
      if (draining) return;
      if (!watchTried) {
        watchTried = true;
        try {
          watcher = watch(path, { persistent: false }, poke);
          watcher.on('error', () => {
            watcher?.close();
            watcher = undefined;
          });
        } catch {
          watcher = undefined; // the timed recheck alone
        }
        continue; // a write may have come before the watch did
      }
      if (!(await opts.running())) {
        draining = true; // read what is left, then stop
        continue;
      }
      if (!changed) {
        await new Promise<void>((resolveWait) => {
          const timer = setTimeout(() => poke(), watcher ? recheckMs : Math.min(recheckMs, 250));
          wake = () => {
            clearTimeout(timer);
            resolveWait();
          };
        });
      }
      changed = false;
    }
  } finally {
    signal.removeEventListener('abort', poke);
    watcher?.close();
    await fh.close();
  }
}
