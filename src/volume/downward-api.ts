// Downward API files: pod metadata and container resources as text, formatted as the kubelet
// formats them. Labels and annotations are `key="value"` lines sorted by key, values quoted the
// way Go's %q quotes them, with no newline after the last line.
import type { V1DownwardAPIVolumeFile, V1Pod } from '@kubernetes/client-node';
import { metadataFieldValue } from '../pod/metadata-field.ts';
import { resourceValue } from '../pod/resource-value.ts';
import type { Payload } from './atomic-writer.ts';
import { DEFAULT_MODE } from './key-projection.ts';
import { VolumeContentError } from './setup-errors.ts';

export function downwardApiPayload(pod: V1Pod, items: V1DownwardAPIVolumeFile[] | undefined, defaultMode: number | undefined): Payload {
  const payload: Payload = new Map();
  for (const item of items ?? []) {
    let text: string;
    if (item.fieldRef) text = podFieldText(pod, item.fieldRef.fieldPath);
    else if (item.resourceFieldRef) {
      const ref = item.resourceFieldRef;
      text = resourceValue(pod, ref.containerName ?? '', ref.resource, String(ref.divisor ?? '1'));
    } else throw new VolumeContentError(`downwardAPI item ${item.path}: needs fieldRef or resourceFieldRef`);
    payload.set(item.path, { data: Buffer.from(text, 'utf8'), mode: item.mode ?? defaultMode ?? DEFAULT_MODE });
  }
  return payload;
}

/** The fields a downward API volume may carry (status fields are for env only). */
export function podFieldText(pod: V1Pod, fieldPath: string): string {
  const metadataField = metadataFieldValue(pod.metadata, fieldPath);
  if (metadataField !== undefined) return metadataField;
  switch (fieldPath) {
    case 'metadata.labels': return formatMap(pod.metadata?.labels);
    case 'metadata.annotations': return formatMap(pod.metadata?.annotations);
    default: throw new VolumeContentError(`unsupported fieldPath: ${fieldPath}`);
  }
}

export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {}).sort().map(k => `${k}=${goQuote(map![k]!)}`).join('\n');
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SHORT_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };

/** A string in double quotes, escaped as Go's strconv.Quote does for valid UTF-8. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (PRINTABLE.test(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0)!;
      if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
      else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
      else out += `\\U${cp.toString(16).padStart(8, '0')}`;
    }
  }
  return out + '"';
}
