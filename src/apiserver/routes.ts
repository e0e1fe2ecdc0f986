// Maps a resource URL to what it names: /api/v1/namespaces/ns/pods/name/status and the like.
import { badRequest, unknownResource } from './errors.ts';
import { findResourceType, type ResourceType } from './registry.ts';

export interface ResourceRoute {
  type: ResourceType;
  /** Set for namespaced requests; undefined lists across all namespaces. */
  namespace?: string;
  name?: string;
  subresource?: string;
  /** For nodes/<name>/proxy/...: the path to request from the node, "/" at least. */
  proxyPath?: string;
}

/** The resource a /api or /apis path names, undefined for discovery paths, 404 for unknown resources. */
export function parseResourcePath(pathname: string): ResourceRoute | undefined {
  let seg: string[];
  try {
    seg = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw badRequest(`malformed path: ${pathname}`);
  }
  let group: string;
  let rest: string[];
  if (seg[0] === 'api' && seg.length >= 2) {
    group = '';
    rest = seg.slice(1);
  } else if (seg[0] === 'apis' && seg.length >= 3) {
    group = seg[1];
    rest = seg.slice(2);
  } else {
    return undefined;
  }
  const version = rest[0];
  rest = rest.slice(1);
  if (rest.length === 0) return undefined;

  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 3 && ['status', 'finalize'].includes(rest[2]))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  // Only the proxy subresource takes a path of its own after it.
  const proxyTail = rest.length > 3 && rest[2] === 'proxy' ? rest.splice(3) : undefined;
  if (rest.length > 3) throw unknownResource();
  const [plural, name, subresource] = rest;
  const type = findResourceType(group, version, plural);
  if (!type) throw unknownResource();
  if (namespace !== undefined && !type.namespaced) throw unknownResource();
  if (subresource !== undefined && !type.subresources.includes(subresource)) throw unknownResource();
  if (name === '') throw unknownResource();
  if (subresource === 'proxy') {
    const tail = (proxyTail ?? []).map(encodeURIComponent).join('/');
    const trailingSlash = tail && pathname.endsWith('/') ? '/' : '';
    return { type, namespace, name, subresource, proxyPath: `/${tail}${trailingSlash}` };
  }
  return { type, namespace, name, subresource };
}
