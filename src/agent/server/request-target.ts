// The request target of an HTTP request, parsed without trusting it: percent-encoding that does
// not decode, targets that are not a path (`//`, `http://[::1`, `*`) and control characters are
// refused with a reason instead of throwing. Path segments are split BEFORE they are decoded, so
// an encoded slash (`..%2F..`) stays inside its segment, where name validation refuses it.

export interface RequestTarget {
  /** Decoded path segments: "/containerLogs/ns/pod/c" → ["containerLogs", "ns", "pod", "c"]. */
  segments: string[];
  /** The decoded path, as authorization sees it (Go's URL.Path). */
  path: string;
  query: URLSearchParams;
}

export type ParsedTarget = { ok: true; target: RequestTarget } | { ok: false; problem: string };

function fromOriginForm(pathAndQuery: string): ParsedTarget {
  const q = pathAndQuery.indexOf('?');
  const rawPath = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
  const rawQuery = q < 0 ? '' : pathAndQuery.slice(q + 1);
  if (!rawPath.startsWith('/')) return { ok: false, problem: 'the path must start with /' };
  if (rawPath.startsWith('//')) return { ok: false, problem: 'the path must not start with //' };
  const segments: string[] = [];
  for (const raw of rawPath.slice(1).split('/')) {
    try {
      segments.push(decodeURIComponent(raw));
    } catch {
      return { ok: false, problem: `malformed percent-encoding in path segment "${raw}"` };
    }
  }
  // eslint-disable-next-line no-control-regex
  if (segments.some((s) => /[\u0000-\u001f\u007f]/.test(s))) return { ok: false, problem: 'control characters in the path' };
  return { ok: true, target: { segments, path: `/${segments.join('/')}`, query: new URLSearchParams(rawQuery) } };
}

export function parseRequestTarget(target: string | undefined): ParsedTarget {
  if (!target) return { ok: false, problem: 'empty request target' };
  if (target.startsWith('/')) return fromOriginForm(target);
  // Absolute form (a proxy's "GET http://host/path"): HTTP/1.1 servers must accept it.
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { ok: false, problem: 'the request target is neither a path nor an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, problem: `unsupported scheme ${url.protocol}` };
  return fromOriginForm(`${url.pathname}${url.search}`);
}
