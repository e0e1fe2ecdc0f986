// CNI spec versions: which ones this library speaks, and how to compare them.

/** Spec versions this library can send and parse. 0.1/0.2 used a different result shape. */
export const SUPPORTED_CNI_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

function parts(v: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new Error(`not a CNI version: "${v}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function isCniVersion(v: unknown): v is string {
  return typeof v === 'string' && /^(\d+)\.(\d+)\.(\d+)$/.test(v);
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareCniVersions(a: string, b: string): number {
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

export function isSupportedCniVersion(v: string): boolean {
  return (SUPPORTED_CNI_VERSIONS as readonly string[]).includes(v);
}

/** At least `min` (e.g. CHECK needs 0.4.0, STATUS and GC need 1.1.0). */
export function atLeast(v: string, min: string): boolean {
  return compareCniVersions(v, min) >= 0;
}
