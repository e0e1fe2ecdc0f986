// What a content volume's payload amounts to, as one string: the volume manager writes a volume
// again only when this changes. Content changes reach the agent as wakes (watched ConfigMaps and
// Secrets, token renewals, pod label changes), so a periodic resync of thousands of pods with
// unchanged content costs no file operations at all.
import { createHash } from 'node:crypto';
import type { Payload } from './atomic-writer.ts';

export function payloadDigest(payload: Payload, ownership: boolean): string {
  const hash = createHash('sha256');
  hash.update(ownership ? 'owned\0' : 'plain\0');
  for (const path of [...payload.keys()].sort()) {
    const file = payload.get(path)!;
    hash.update(`${path}\0${file.mode}\0${file.data.length}\0`);
    hash.update(file.data);
  }
  return hash.digest('base64');
}
