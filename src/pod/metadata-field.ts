// The pod's own metadata fields a fieldRef may name, the same for env and downward API volumes:
// name, namespace, uid, and one label or annotation by key. Whole label/annotation maps
// (volumes only) and status/spec fields (env only) are their callers' own.

/** The field's text, or undefined when the path names no metadata field. */
export function metadataFieldValue(metadata: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> } | undefined, fieldPath: string): string | undefined {
  const m = metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (keyed) return (keyed[1] === 'labels' ? m.labels : m.annotations)?.[keyed[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name': return m.name ?? '';
    case 'metadata.namespace': return m.namespace ?? 'default';
    case 'metadata.uid': return m.uid ?? '';
    default: return undefined;
  }
}
