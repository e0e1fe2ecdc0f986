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

// apimachinery's ParseQuantity errors, word for word: what kube-apiserver's decoder answers for a
// Quantity it cannot read (inside "<Kind> in version ... cannot be handled as a <Kind>: ...").
export const QUANTITY_FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY_SUFFIX_WRONG = "unable to parse quantity's suffix";
const SUFFIX_CHARS = 'eEinumkKMGTP';
const isDigit = (ch: string | undefined) => ch !== undefined && ch >= '0' && ch <= '9';

/**
 * Why kube-apiserver would not parse `text` as a Quantity, in its words; undefined when it would.
 * A scan as permissive as the Go parser's (an optional sign, digits with an optional fraction,
 * then suffix letters, an optional sign and digits), then the suffix must be a known one or an
 * "e"/"E" decimal exponent. So "1." and ".5" pass, "abc" and full-width digits do not.
 */
export function quantityParseError(text: string): string | undefined {
  if (text === '') return QUANTITY_FORMAT_WRONG;
  let pos = 0;
  if (text[0] === '+' || text[0] === '-') pos++;
  while (isDigit(text[pos])) pos++;
  if (text[pos] === '.') {
    pos++;
    while (isDigit(text[pos])) pos++;
  }
  const suffixStart = pos;
  while (pos < text.length && SUFFIX_CHARS.includes(text[pos]!)) pos++;
  if (text[pos] === '+' || text[pos] === '-') pos++;
  while (isDigit(text[pos])) pos++;
  if (pos < text.length) return QUANTITY_FORMAT_WRONG;
  const suffix = text.slice(suffixStart);
  if (Object.hasOwn(SUFFIX_FACTORS, suffix)) return undefined;
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) return undefined;
  return QUANTITY_SUFFIX_WRONG;
}

/** Why Quantity.UnmarshalJSON would refuse this JSON value; undefined when it takes it. The Go
 * code parses the raw JSON text, quotes stripped and trimmed, so a list, an object or a boolean
 * is never a quantity; null is an unset one. */
export function quantityValueProblem(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? quantityParseError(String(value)) : QUANTITY_FORMAT_WRONG;
  if (typeof value === 'string') return quantityParseError(value.trim());
  return QUANTITY_FORMAT_WRONG;
}

/** The quantity's value; undefined is 0 (an unset request), a number is taken as is. Throws QuantityError when malformed. */
export function parseQuantity(text: string | number | undefined): number {
  // JSON null is an unset Quantity, as Go decodes it.
  if (text === undefined || (text as unknown) === null) return 0;
  if (typeof text === 'number') return text;
  const m = QUANTITY.exec(text.trim());
  if (!m) {
    // The API's parser takes a number part without digits ("+", ".", "-Ki") as zero.
    if (quantityParseError(text.trim()) === undefined) return 0;
    throw new QuantityError(text);
  }
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
