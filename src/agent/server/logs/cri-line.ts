// One line of a CRI container log file: "<RFC3339Nano time> <stdout|stderr> <P|F> <text>", where P
// marks a partial line that the next entry continues.
import { parseRfc3339 } from '../../../pod/rfc3339.ts';

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
