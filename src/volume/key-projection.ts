// ConfigMap and Secret content as files, the kubelet's way: every key as a file named after it,
// or only the listed items (key → path, nested paths allowed); each file gets the item's mode or
// the volume's defaultMode (0644). A missing optional object gives an empty volume; a missing
// key of an optional source is skipped; anything missing otherwise is an error naming it.
import type { V1ConfigMap, V1KeyToPath, V1Secret } from '@kubernetes/client-node';
import type { Payload } from './atomic-writer.ts';
import { VolumeContentError } from './setup-errors.ts';

export const DEFAULT_MODE = 0o644;

export interface KeySource {
  kind: 'configmap' | 'secret';
  name: string;
  /** The object's keys, or undefined when the object does not exist. */
  data: ReadonlyMap<string, Buffer> | undefined;
  items?: V1KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

export function keysPayload(source: KeySource): Payload {
  const payload: Payload = new Map();
  const defaultMode = source.defaultMode ?? DEFAULT_MODE;
  if (!source.data) {
    if (source.optional) return payload;
    throw new VolumeContentError(`${source.kind} "${source.name}" not found`);
  }
  if (!source.items?.length) {
    for (const [key, data] of source.data) payload.set(key, { data, mode: defaultMode });
    return payload;
  }
  for (const item of source.items) {
    const data = source.data.get(item.key);
    if (!data) {
      if (source.optional) continue;
      throw new VolumeContentError(source.kind === 'configmap'
        ? `configmap references non-existent config key: ${item.key}`
        : `references non-existent secret key: ${item.key}`);
    }
    payload.set(item.path, { data, mode: item.mode ?? defaultMode });
  }
  return payload;
}

/** A ConfigMap's keys: data as UTF-8, binaryData decoded from base64. */
export function configMapBytes(cm: V1ConfigMap | undefined): Map<string, Buffer> | undefined {
  if (!cm) return undefined;
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, 'base64'));
  return out;
}

/** A Secret's keys as bytes (binary-safe: secrets may hold keystores, not only text). */
export function secretBytes(secret: V1Secret | undefined): Map<string, Buffer> | undefined {
  if (!secret) return undefined;
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(secret.data ?? {})) out.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  return out;
}
