// Which entries of a log the options keep (the kubelet's kuberuntime/logs): tailLines counts lines
// from the end, sinceSeconds/sinceTime skip older entries, limitBytes cuts the output, timestamps
// prefix each line with its time.
import { parseCriLine, type CriEntry } from './cri-line.ts';
import type { LogOptions } from './log-options.ts';

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

/** Plain text of a CRI log held in memory: prefixes stripped, partial lines joined. */
export function stripCriLog(content: string): string {
  return renderLog(Buffer.from(content), { follow: false, timestamps: false }).toString('utf8');
}
