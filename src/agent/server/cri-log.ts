// CRI container log files (kubelet layout <podLogsDir>/<ns>_<pod>_<uid>/<container>/<attempt>.log)
// and their line format: "<RFC3339Nano time> <stdout|stderr> <P|F> <text>", where P marks a
// partial line that the next entry continues. What `kubectl logs` asks of them is the kubelet's
// (pkg/kubelet/kuberuntime/logs): tailLines counts lines of the file from its end, sinceSeconds
// and sinceTime skip entries older than the moment, limitBytes cuts the output, timestamps prefix
// each line with its time (RFC3339Nano, nine fraction digits), and follow reads on as the file
// grows until the container has stopped and the file is drained. The file is streamed, never read
// whole.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, type FileHandle } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

// --- One line ------------------------------------------------------------------------------

export interface CriEntry {
  /** The entry's time, in the kubelet's output form (RFC3339Nano with nine fraction digits). */
  time: string;
  /** Nanoseconds since the epoch, for since comparisons. */
  ns: bigint;
  stream: 'stdout' | 'stderr';
  /** P: the next entry continues this line. */
  partial: boolean;
  /** The text, without its line end. */
  text: Buffer;
}

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/i;

/**
 * An RFC 3339 time (fraction optional, up to nine digits), as Go's time.Parse takes it: fields in
 * range, offsets kept. Formatted back the way the kubelet prints a log time (RFC3339NanoFixed:
 * nine fraction digits, "Z" for a zero offset).
 */
export function parseRfc3339(s: string): { ns: bigint; fixed: string } | undefined {
  const m = rfc3339.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac = '', z, sign, oh, om] = m;
  const [Y, MO, D, H, MI, S] = [y, mo, d, h, mi, sec].map(Number);
  const ms = Date.UTC(Y, MO - 1, D, H, MI, S);
  const check = new Date(ms);
  if (Y < 1 || check.getUTCFullYear() !== Y || check.getUTCMonth() !== MO - 1 || check.getUTCDate() !== D || H > 23 || MI > 59 || S > 59) return undefined;
  const offsetMin = z ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  if (!z && (Number(oh) > 23 || Number(om) > 59)) return undefined;
  const fraction = frac.padEnd(9, '0');
  const ns = (BigInt(ms) - BigInt(offsetMin) * 60_000n) * 1_000_000n + BigInt(fraction);
  const zone = offsetMin === 0 ? 'Z' : `${sign}${oh}:${om}`;
  return { ns, fixed: `${y}-${mo}-${d}T${h}:${mi}:${sec}.${fraction}${zone}` };
}

/** One line of a CRI log file (without its '\n'); undefined when it is not one (the kubelet skips those). */
export function parseCriLine(line: Buffer): CriEntry | undefined {
  const sp1 = line.indexOf(0x20);
  if (sp1 < 0) return undefined;
  const time = parseRfc3339(line.toString('latin1', 0, sp1));
  if (!time) return undefined;
  const sp2 = line.indexOf(0x20, sp1 + 1);
  if (sp2 < 0) return undefined;
  const stream = line.toString('latin1', sp1 + 1, sp2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  // The tag may carry more fields after ':' (forward compatible); the first says P or F. An empty
  // F line may come without the space after its tag.
  const sp3 = line.indexOf(0x20, sp2 + 1);
  const tags = line.toString('latin1', sp2 + 1, sp3 < 0 ? line.length : sp3).split(':');
  if (!tags[0]) return undefined;
  return { time: time.fixed, ns: time.ns, stream, partial: tags[0] === 'P', text: sp3 < 0 ? Buffer.alloc(0) : line.subarray(sp3 + 1) };
}

/** Plain text of a CRI log held in memory: prefixes stripped, partial lines joined. */
export function stripCriLog(content: string): string {
  return renderLog(Buffer.from(content), { follow: false, timestamps: false }).toString('utf8');
}

// --- Options -------------------------------------------------------------------------------

/** PodLogOptions as the kubelet reads them, once validated. */
export interface LogOptions {
  follow: boolean;
  timestamps: boolean;
  /** Lines from the end of the file; undefined: all of it. */
  tailLines?: number;
  /** Output bytes at most; undefined: no limit. */
  limitBytes?: number;
  /** Entries older than this (ns since the epoch) are skipped. */
  sinceNs?: bigint;
}

export type ParsedLogQuery = { ok: true; options: LogOptions; previous: boolean } | { ok: false; message: string };

/** Query booleans as Kubernetes converts them: absent, empty, "0" and "false" are false, anything else true. */
function queryBool(v: string | null): boolean {
  return !(v === null || v === '' || v === '0' || v.toLowerCase() === 'false');
}

/**
 * The containerLogs query (follow, previous, timestamps, tailLines — or the older `tail`, where
 * "all" means no limit — limitBytes, sinceSeconds, sinceTime), checked as ValidatePodLogOptions
 * checks them. `nowMs` anchors sinceSeconds.
 */
export function parseLogQuery(query: URLSearchParams, nowMs: number): ParsedLogQuery {
  const problems: string[] = [];
  const int = (name: string, raw: string | null): number | undefined => {
    if (raw === null || raw === '') return undefined;
    if (!/^[+-]?\d{1,18}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
      problems.push(`${name}: Invalid value: ${JSON.stringify(raw)}: must be an integer`);
      return undefined;
    }
    return Number(raw);
  };
  const legacyTail = query.get('tail');
  const tailRaw = legacyTail !== null && legacyTail !== '' ? (legacyTail === 'all' ? null : legacyTail) : query.get('tailLines');
  const tailLines = int('tailLines', tailRaw);
  const limitBytes = int('limitBytes', query.get('limitBytes'));
  const sinceSeconds = int('sinceSeconds', query.get('sinceSeconds'));
  const sinceTimeRaw = query.get('sinceTime');
  let sinceTime: bigint | undefined;
  if (sinceTimeRaw !== null && sinceTimeRaw !== '') {
    const t = parseRfc3339(sinceTimeRaw);
    if (t) sinceTime = t.ns;
    else problems.push(`sinceTime: Invalid value: ${JSON.stringify(sinceTimeRaw)}: must be an RFC 3339 time, e.g. 2006-01-02T15:04:05Z`);
  }
  if (tailLines !== undefined && tailLines < 0) problems.push(`tailLines: Invalid value: ${tailLines}: must be greater than or equal to 0`);
  if (limitBytes !== undefined && limitBytes < 1) problems.push(`limitBytes: Invalid value: ${limitBytes}: must be greater than 0`);
  if (sinceSeconds !== undefined && sinceSeconds < 1) problems.push(`sinceSeconds: Invalid value: ${sinceSeconds}: must be greater than 0`);
  if (query.has('sinceSeconds') && query.get('sinceSeconds') !== '' && sinceTimeRaw !== null && sinceTimeRaw !== '') {
    problems.push('at most one of `sinceTime` or `sinceSeconds` may be specified');
  }
  if (problems.length) return { ok: false, message: `invalid log options: ${problems.join(', ')}` };
  const options: LogOptions = { follow: queryBool(query.get('follow')), timestamps: queryBool(query.get('timestamps')) };
  if (tailLines !== undefined) options.tailLines = tailLines;
  if (limitBytes !== undefined) options.limitBytes = limitBytes;
  if (sinceSeconds !== undefined) options.sinceNs = (BigInt(nowMs) - BigInt(sinceSeconds) * 1000n) * 1_000_000n;
  if (sinceTime !== undefined) options.sinceNs = sinceTime;
  return { ok: true, options, previous: queryBool(query.get('previous')) };
}

// --- Selection -----------------------------------------------------------------------------

/**
 * Turns entries into output under since, timestamps and limitBytes. A line split into P entries
 * is written joined, with one timestamp (its first entry's) when timestamps are asked for.
 */
export class LogSelector {
  private remain: number;
  private atLineStart = true;
  /** True once limitBytes is used up: nothing more will be written. */
  done = false;

  constructor(private readonly opts: Pick<LogOptions, 'timestamps' | 'limitBytes' | 'sinceNs'>) {
    this.remain = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  }

  /** The bytes to write for one entry (empty when it is skipped or the limit was reached). */
  take(entry: CriEntry): Buffer {
    if (this.done) return Buffer.alloc(0);
    if (this.opts.sinceNs !== undefined && entry.ns < this.opts.sinceNs) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    if (this.opts.timestamps && this.atLineStart) parts.push(Buffer.from(`${entry.time} `));
    parts.push(entry.text);
    if (!entry.partial) parts.push(Buffer.from('\n'));
    this.atLineStart = !entry.partial;
    let out = Buffer.concat(parts);
    if (out.length >= this.remain) {
      out = out.subarray(0, this.remain);
      this.done = true;
    }
    this.remain -= out.length;
    return out;
  }
}

/** Where the last `lines` lines of `buf` start (the kubelet's tail: each '\n' ends a line). */
export function tailStartIndex(buf: Buffer, lines: number): number {
  // A final '\n' ends the last line; it does not start one.
  const wanted = buf.length > 0 && buf[buf.length - 1] === 0x0a ? lines + 1 : lines;
  if (wanted === 0) return buf.length;
  let count = 0;
  for (let i = buf.length - 1; i >= 0; i--) if (buf[i] === 0x0a && ++count === wanted) return i + 1;
  return 0;
}

/** A whole log held in memory, rendered under the options (follow aside): the reference for the file reader. */
export function renderLog(content: Buffer, opts: LogOptions): Buffer {
  const start = opts.tailLines === undefined ? 0 : tailStartIndex(content, opts.tailLines);
  const selector = new LogSelector(opts);
  const out: Buffer[] = [];
  let limited = opts.tailLines ?? Number.POSITIVE_INFINITY;
  let pos = start;
  while (pos < content.length && limited > 0 && !selector.done) {
    const nl = content.indexOf(0x0a, pos);
    const end = nl < 0 ? content.length : nl;
    const entry = parseCriLine(content.subarray(pos, end));
    if (entry) {
      out.push(selector.take(entry));
      limited--;
    }
    pos = end + 1;
  }
  return Buffer.concat(out);
}

// --- The file ------------------------------------------------------------------------------

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
