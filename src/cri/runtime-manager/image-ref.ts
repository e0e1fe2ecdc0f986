// Image references as the kubelet treats them: validate against the distribution reference
// grammar (a reference that does not parse is InvalidImageName, and no pull is attempted),
// add the default tag ":latest" when neither tag nor digest is given, and find the registry
// host that pull credentials are matched against.

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);

export interface ImageRef {
  /** As the user wrote it, with ":latest" added when it had neither tag nor digest. */
  withDefaultTag: string;
  /** Registry host credentials are looked up for ("docker.io" when none is named). */
  registry: string;
  tag?: string;
  digest?: string;
}

export class InvalidImageNameError extends Error {
  readonly reason = 'InvalidImageName';
}

export function parseImageRef(image: string): ImageRef {
  const m = REFERENCE.exec(image);
  if (!m) {
    throw new InvalidImageNameError(`Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`);
  }
  const [, firstPart, path, tag, digest] = m;
  if ((firstPart ? firstPart.length + 1 : 0) + path!.length > 255) {
    throw new InvalidImageNameError(`Failed to apply default image tag "${image}": couldn't parse image name "${image}": repository name must not be more than 255 characters`);
  }
  // "foo/bar": foo is a registry only when it looks like a host (a dot, a port, or localhost).
  let registry = 'docker.io';
  if (firstPart !== undefined) {
    if (/[.:]/.test(firstPart) || firstPart === 'localhost' || firstPart.startsWith('[')) registry = firstPart;
    else if (firstPart !== firstPart.toLowerCase()) {
      throw new InvalidImageNameError(`Failed to apply default image tag "${image}": couldn't parse image name "${image}": repository name must be lowercase`);
    }
  }
  const withDefaultTag = tag === undefined && digest === undefined ? `${image}:latest` : image;
  return { withDefaultTag, registry: canonicalRegistry(registry), tag, digest };
}

/** The pull policy the API server would have defaulted: Always for :latest or no tag. */
export function effectivePullPolicy(policy: string | undefined, ref: ImageRef): 'Always' | 'IfNotPresent' | 'Never' {
  if (policy === 'Always' || policy === 'IfNotPresent' || policy === 'Never') return policy;
  if (ref.digest) return 'IfNotPresent';
  return ref.tag === undefined || ref.tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** Docker Hub has several names; credentials for any of them apply to all. */
export function canonicalRegistry(host: string): string {
  const h = host.replace(/^https?:\/\//, '').replace(/\/.*$/, '').toLowerCase();
  return h === 'index.docker.io' || h === 'registry-1.docker.io' || h === 'registry.hub.docker.com' ? 'docker.io' : h;
}
