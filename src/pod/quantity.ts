// Kubernetes resource quantities ("500m", "1.5", "128Mi", "1G", "2e3", "1.") as plain numbers:
// the one parser for requests, limits, divisors, size limits, storage and bandwidth.
// Grammar as the API's: a signed decimal number, then either an exponent or one suffix.
const SUFFIX_FACTORS: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
/** The API's quantity grammar: m[1] the signed number, m[2] a decimal exponent, m[3] a suffix. */
export const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

export class QuantityError extends Error {
  constructor(readonly text: string) {
    super(`"${text}" is not a quantity`);
    this.name = 'QuantityError';
  }
}

/** The quantity's value; undefined is 0 (an unset request), a number is taken as is. Throws QuantityError when malformed. */
export function parseQuantity(text: string | number | undefined): number {
  if (text === undefined) return 0;
  if (typeof text === 'number') return text;
  const m = QUANTITY.exec(text.trim());
  if (!m) throw new QuantityError(text);
  const value = Number(m[1]);
  if (m[2] !== undefined) return value * 10 ** Number(m[2]);
  return value * SUFFIX_FACTORS[m[3] ?? '']!;
}

/** For callers where a malformed value means "not set" (the API server rejects such pods anyway). */
export function quantityOrNaN(text: string | number | undefined): number {
  try {
    return parseQuantity(text);
  } catch {
    return Number.NaN;
  }
}

/** CPU in millicores, rounded up as Kubernetes does for MilliValue. */
export function milliCpu(text: string | number | undefined): number {
  return Math.ceil(parseQuantity(text) * 1000 - 1e-9);
}
