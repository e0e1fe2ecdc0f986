// The List filters of CRI: ids match in full or by unique prefix (containerd resolves short
// ids the same way), label selectors need every pair to match exactly.

export function resolveId(items: ReadonlyMap<string, unknown>, idOrPrefix: string): string | undefined {
  if (items.has(idOrPrefix)) return idOrPrefix;
  if (!idOrPrefix) return undefined;
  let found: string | undefined;
  for (const id of items.keys()) {
    if (!id.startsWith(idOrPrefix)) continue;
    if (found) return undefined; // ambiguous
    found = id;
  }
  return found;
}

export function matchesLabels(labels: Record<string, string>, selector: Record<string, string> | undefined | null): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
