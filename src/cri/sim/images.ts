// The simulated image store: names normalised as containerd does (busybox →
// docker.io/library/busybox:latest), ids and digests derived from the name so that a pull of
// the same name always yields the same image.
import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { SimError } from './errors.ts';

export interface SimImage {
  /** "sha256:<64 hex>" */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Full reference: registry domain, repository path, and tag (default latest) or digest. */
export function normalizeImageRef(ref: string): string {
  let name = ref.trim();
  let suffix = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    suffix = name.slice(at);
    name = name.slice(0, at);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon > name.lastIndexOf('/')) {
      suffix = name.slice(colon);
      name = name.slice(0, colon);
    } else suffix = ':latest';
  }
  const parts = name.split('/');
  const first = parts[0]!;
  const hasDomain = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasDomain) name = parts.length === 1 ? `docker.io/library/${name}` : `docker.io/${name}`;
  return name + suffix;
}

function repositoryOf(normalized: string): string {
  const at = normalized.indexOf('@');
  if (at >= 0) return normalized.slice(0, at);
  return normalized.slice(0, normalized.lastIndexOf(':'));
}

export function imageFor(ref: string): SimImage {
  const normalized = normalizeImageRef(ref);
  const repo = repositoryOf(normalized);
  const isDigest = normalized.includes('@');
  return {
    id: `sha256:${sha256(`id:${normalized}`)}`,
    repoTags: isDigest ? [] : [normalized],
    repoDigests: [isDigest ? normalized : `${repo}@sha256:${sha256(`digest:${normalized}`)}`],
    size: 1_000_000 + (parseInt(sha256(normalized).slice(0, 6), 16) % 9_000_000),
  };
}

export class ImageStore {
  private readonly byId = new Map<string, SimImage>();

  constructor(private readonly pullable: (ref: string) => boolean) {}

  /** Makes the image present without a pull (preloaded images). */
  add(ref: string): SimImage {
    const image = imageFor(ref);
    const existing = this.byId.get(image.id);
    if (existing) return existing;
    this.byId.set(image.id, image);
    return image;
  }

  pull(ref: string): SimImage {
    if (!ref) throw new SimError(status.INVALID_ARGUMENT, 'image reference is required');
    const normalized = normalizeImageRef(ref);
    if (!this.pullable(ref)) {
      throw new SimError(status.NOT_FOUND,
        `failed to pull and unpack image "${normalized}": failed to resolve reference "${normalized}": ${normalized}: not found`);
    }
    return this.add(ref);
  }

  /** An image by id ("sha256:..."), full or short name, or digest; undefined when absent. */
  resolve(ref: string): SimImage | undefined {
    if (!ref) return undefined;
    const direct = this.byId.get(ref) ?? this.byId.get(`sha256:${ref}`);
    if (direct) return direct;
    const normalized = normalizeImageRef(ref);
    for (const image of this.byId.values()) {
      if (image.repoTags.includes(normalized) || image.repoDigests.includes(normalized)) return image;
    }
    return undefined;
  }

  remove(ref: string): void {
    const image = this.resolve(ref);
    if (image) this.byId.delete(image.id);
  }

  list(): SimImage[] {
    return [...this.byId.values()];
  }
}

/** Default pull policy of the sim: every name can be pulled except obviously missing ones. */
export const defaultPullable = (ref: string): boolean => !ref.includes('missing') && !ref.includes('does-not-exist');
