// What a request asks for, worked out from its method and URL exactly as kube-apiserver's
// RequestInfo does, since authorizers decide on it: verb, group, version, resource,
// subresource, namespace and name for /api and /apis URLs, the path and the lower-case
// method for everything else.
import type { FieldRequirement } from '../selectors.ts';
import type { RequestAttributes, UserInfo } from './attributes.ts';

const namespaceSubresources = ['status', 'finalize'];
const methodVerbs: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

function decodedPath(url: URL): string {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname;
  }
}

export function requestAttributes(user: UserInfo, method: string, url: URL): RequestAttributes {
  const path = decodedPath(url);
  const nonResource: RequestAttributes = {
    user, verb: method.toLowerCase(), resourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '',
  };
  let parts = path.replace(/^\/+|\/+$/g, '').split('/');
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return nonResource;
  let apiGroup = '';
  if (parts[0] === 'apis') {
    if (parts.length < 4) return nonResource;
    apiGroup = parts[1];
    parts = parts.slice(2);
  } else {
    parts = parts.slice(1);
  }
  const apiVersion = parts[0];
  parts = parts.slice(1);

  // The old /watch/ and /proxy/ URL prefixes name the verb themselves.
  let verb = methodVerbs[method] ?? '';
  if ((parts[0] === 'watch' || parts[0] === 'proxy') && parts.length >= 2) {
    verb = parts[0];
    parts = parts.slice(1);
  }
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1];
    if (parts.length > 2 && !namespaceSubresources.includes(parts[2])) parts = parts.slice(2);
  }
  const [resource = '', nameInPath = '', subresourceInPath = ''] = parts;
  const subresource = verb === 'proxy' ? '' : subresourceInPath;
  let name = nameInPath;
  let fieldSelector: FieldRequirement[] | undefined;

  if (!name && verb === 'get') {
    verb = isTrue(url.searchParams.get('watch')) ? 'watch' : 'list';
    fieldSelector = fieldRequirements(url.searchParams.get('fieldSelector'));
    // A list or watch narrowed to one name by field selector is about that object.
    name = nameFromFieldSelector(fieldSelector) ?? '';
  }
  if (!name && verb === 'delete') verb = 'deletecollection';
  if (name && verb === 'get' && isTrue(url.searchParams.get('watch'))) verb = 'watch';
  return { user, verb, resourceRequest: true, path, apiGroup, apiVersion, resource, subresource, namespace, name, ...(fieldSelector?.length ? { fieldSelector } : {}) };
}

function isTrue(value: string | null): boolean {
  return value !== null && /^(1|t|true)$/i.test(value);
}

/** The field selector's terms, not checked against the kind (the handler does that); none when it does not parse. */
function fieldRequirements(selector: string | null): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (!selector?.trim()) return out;
  for (const term of selector.split(',')) {
    const m = /^\s*([^=!]+?)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!m) return [];
    out.push({ field: m[1], negate: m[2] === '!=', value: m[3] });
  }
  return out;
}

function nameFromFieldSelector(requirements: FieldRequirement[]): string | undefined {
  const name = requirements.find((r) => r.field === 'metadata.name' && !r.negate)?.value;
  // Only a name that could be a path segment counts, as upstream checks.
  return name && name !== '.' && name !== '..' && !/[/%]/.test(name) ? name : undefined;
}
