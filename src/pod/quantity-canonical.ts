// A quantity's canonical form: the string kube-apiserver emits for it (apimachinery's
// resource.Quantity CanonicalizeBytes). Exact, on BigInt: a quantity remembers its format
// (BinarySI "Ki".."Ei", DecimalSI "n".."E", DecimalExponent "e<n>") and is written in it with
// no fraction digits and the largest suffix (or exponent, a multiple of 3) that keeps it whole:
// "1000m" is "1", "0.5" is "500m", "1024Ki" is "1Mi", "1.5Gi" is "1536Mi", "1e3" stays "1e3".
// Values are rounded up to the nano (0.1n is 1n); a BinarySI value under 1024 in magnitude, or
// not whole, is written as DecimalSI ("512Ki"/1024 is "512", "0.5Ki" is "512").
import { QUANTITY, QuantityError } from './quantity.ts';

export type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

/** unscaled × 10^scale, exactly. */
interface Exact { unscaled: bigint; scale: number; format: QuantityFormat }

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binaryByPower = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const maxInt64 = 2n ** 63n - 1n;
/** Beyond this a quantity is no resource amount; refused rather than expanded into huge numbers. */
const maxAbsScale = 1000;

const abs = (n: bigint) => (n < 0n ? -n : n);
const pow10 = (n: number) => 10n ** BigInt(n);

/** Parses as ParseQuantity does: the value exactly, and the format the suffix chose. */
export function parseExact(text: string): Exact {
  const m = QUANTITY.exec(text);
  if (!m) throw new QuantityError(text);
  const [, number, exponent, suffix = ''] = m;
  const negative = number!.startsWith('-');
  const [whole = '', fraction = ''] = number!.replace(/^[+-]/, '').split('.');
  let unscaled = BigInt(`${whole}${fraction}` || '0') * (negative ? -1n : 1n);
  let scale = -fraction.length;
  let format: QuantityFormat;
  if (exponent !== undefined) {
    format = 'DecimalExponent';
    scale += Number(exponent);
  } else if (suffix in binarySuffixes) {
    format = 'BinarySI';
    unscaled *= 2n ** BigInt(binarySuffixes[suffix]!);
  } else {
    format = 'DecimalSI';
    scale += decimalSuffixes[suffix]!;
  }
  if (Math.abs(scale) > maxAbsScale) throw new QuantityError(text);
  // Round away from zero to the nano, the finest a quantity holds.
  if (scale < -9) {
    const divisor = pow10(-9 - scale);
    const q = abs(unscaled) / divisor + (abs(unscaled) % divisor === 0n ? 0n : 1n);
    unscaled = negative ? -q : q;
    scale = -9;
  }
  if (format === 'BinarySI') {
    // Capped at the largest int64; a magnitude under one is DecimalSI from the start.
    if (compare(abs(unscaled), scale, maxInt64) > 0) {
      unscaled = negative ? -maxInt64 : maxInt64;
      scale = 0;
    }
    if (unscaled !== 0n && compare(abs(unscaled), scale, 1n) < 0) format = 'DecimalSI';
  }
  return { unscaled, scale, format };
}

/** Compares unscaled × 10^scale with an integer. */
function compare(unscaled: bigint, scale: number, n: bigint): number {
  const [a, b] = scale >= 0 ? [unscaled * pow10(scale), n] : [unscaled, n * pow10(-scale)];
  return a === b ? 0 : a < b ? -1 : 1;
}

/** The canonical string of an exact value in a format (CanonicalizeBytes). */
function canonicalString({ unscaled, scale, format }: Exact): string {
  if (unscaled === 0n) return '0';
  const sign = unscaled < 0n ? '-' : '';
  if (format === 'BinarySI') {
    const small = compare(abs(unscaled), scale, 1024n) < 0;
    const whole = scale >= 0 || unscaled % pow10(-scale) === 0n;
    if (small || !whole) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let value = scale >= 0 ? abs(unscaled) * pow10(scale) : abs(unscaled) / pow10(-scale);
    let power = 0;
    while (value >= 1024n && value % 1024n === 0n && power < binaryByPower.length - 1) {
      value /= 1024n;
      power++;
    }
    return `${sign}${value}${binaryByPower[power]}`;
  }
  let mantissa = abs(unscaled);
  let exponent = scale;
  while (mantissa >= 10n && mantissa % 10n === 0n) {
    mantissa /= 10n;
    exponent++;
  }
  // Down to a multiple of three (1.1e5 is 110e3).
  const down = ((exponent % 3) + 3) % 3;
  mantissa *= pow10(down);
  exponent -= down;
  if (format === 'DecimalExponent') return `${sign}${mantissa}${exponent === 0 ? '' : `e${exponent}`}`;
  // Past "E" (10^18) DecimalSI has no suffix: the rest stays in the number.
  if (exponent > 18) {
    mantissa *= pow10(exponent - 18);
    exponent = 18;
  }
  return `${sign}${mantissa}${decimalByExponent.get(exponent)}`;
}

/** The string kube-apiserver would write for this quantity. Throws QuantityError when malformed. */
export function canonicalQuantity(text: string): string {
  return canonicalString(parseExact(text));
}

/** The canonical string of the same value in another format: what resource.NewQuantity(v, format) prints. */
export function canonicalQuantityAs(text: string, format: QuantityFormat): string {
  const exact = parseExact(text);
  return canonicalString({ ...exact, format });
}

/** A whole number (bytes, cores, pods, devices) as a canonical quantity, as the kubelet writes
 * resource.NewQuantity(n, format): memory and storage BinarySI, counts DecimalSI. */
export function formatQuantity(n: number | bigint, format: QuantityFormat): string {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) throw new QuantityError(String(n));
  return canonicalString({ unscaled: BigInt(n), scale: 0, format });
}
