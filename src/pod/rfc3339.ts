// RFC 3339 times as Kubernetes reads them (sinceTime, CRI log lines) and as the kubelet prints a
// log time (RFC3339NanoFixed: nine fraction digits, "Z" for a zero offset).
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
