// Kubernetes resource quantities ("500m", "1.5", "128Mi", "1G", "2e3") as plain numbers.
const suffixes: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

export function parseQuantity(text: string | number | undefined): number {
  if (text === undefined) return 0;
  if (typeof text === 'number') return text;
  const m = /^([+-]?\d*\.?\d+)(?:[eE]([+-]?\d+))?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid quantity "${text}"`);
  return Number(m[1]) * 10 ** Number(m[2] ?? 0) * suffixes[m[3] ?? ''];
}

/** CPU in millicores, rounded up as Kubernetes does for MilliValue. */
export function milliCpu(text: string | number | undefined): number {
  return Math.ceil(parseQuantity(text) * 1000 - 1e-9);
}
