// One line of a CRI container log file: "<RFC3339Nano time> <stdout|stderr> <P|F> <text>", where P
// marks a partial line that the next entry continues; and the RFC 3339 times the kubelet reads
// and prints (nine fraction digits).

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
