// httpGet probes and hooks: the request the kubelet builds from an HTTPGetAction, and one probe
// run with its redirects. 2xx passes with the body as output; a 3xx that is not followed passes
// with a warning; anything else, or no response at all, fails.
import type { V1Container, V1HTTPGetAction } from '@kubernetes/client-node';
import type { ProbeOutcome } from './probe-outcome.ts';
import { resolveContainerPort } from './container-port.ts';
import { getOnce, type GetResult, type OneGet } from './http-exchange.ts';
import { goQuote, joinHostPort } from './go-text.ts';
import { kubeUserAgent } from './user-agent.ts';

export interface HttpGetTarget {
  scheme: 'HTTP' | 'HTTPS';
  host: string;
  port: number;
  path: string;
  headers: Array<{ name: string; value: string }>;
}

/** Go's client gives up after 10 requests in one chain. */
const MAX_REQUESTS = 10;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

/** The target of an httpGet action: host defaults to the pod IP, the port may be a port's name. */
export function httpGetTargetOf(action: V1HTTPGetAction, container: V1Container, podIP: string): HttpGetTarget {
  const scheme = (action.scheme || 'HTTP').toUpperCase();
  if (scheme !== 'HTTP' && scheme !== 'HTTPS') throw new Error(`unsupported protocol scheme ${goQuote(scheme.toLowerCase())}`);
  const path = action.path || '/';
  return {
    scheme,
    host: action.host || podIP,
    port: resolveContainerPort(action.port, container),
    path: path.startsWith('/') ? path : `/${path}`,
    headers: (action.httpHeaders ?? []).map((h) => ({ name: h.name, value: h.value })),
  };
}

/** One probe: GET with the kubelet's headers, redirects followed while they stay on the same host. */
export async function runHttpGet(target: HttpGetTarget, timeoutMs: number, opts: { userAgent?: string } = {}): Promise<ProbeOutcome> {
  const deadline = Date.now() + timeoutMs;
  const headers = requestHeaders(target.headers, opts.userAgent ?? kubeUserAgent('probe'));
  const customHost = target.headers.find((h) => h.name.toLowerCase() === 'host')?.value ?? '';
  const scheme = target.scheme === 'HTTPS' ? 'https' : 'http';
  let url = `${scheme}://${joinHostPort(target.host, target.port)}${escapePath(target.path)}`;
  let get: OneGet = { scheme, host: target.host, port: target.port, path: requestTarget(target.path), hostHeader: customHost || joinHostPort(target.host, target.port), headers };

  for (let requests = 1; ; requests++) {
    let step = { kind: 'stop' } as RedirectStep;
    const result: GetResult = await getOnce(get, deadline, (statusCode, location) => {
      step = redirectStep(statusCode, location, url, target.host, requests);
      return step.kind === 'stop';
    });
    if (result.kind === 'error') {
      // Errors before a response name the URL, as Go's url.Error does; a broken body does not.
      if (result.statusCode === undefined) return { result: 'failure', output: `Get ${goQuote(url)}: ${result.text}` };
      return { result: 'failure', output: result.text, statusCode: result.statusCode };
    }
    if (step.kind === 'error') return { result: 'failure', output: `Get ${goQuote(step.url ?? url)}: ${step.text}` };
    if (step.kind === 'stop') return outcomeOf(result.statusCode, result.body.toString('utf8'));
    // A relative Location keeps a custom Host header; an absolute one names its own host (Go's rule).
    const hostHeader = customHost && !step.absolute ? customHost : step.next.host;
    url = step.next.href.replace(/#.*$/, '');
    get = { ...get, scheme: step.next.protocol === 'https:' ? 'https' : 'http', host: unbracketed(step.next.hostname), port: portOf(step.next), path: `${step.next.pathname}${step.next.search}`, hostHeader };
  }
}

function outcomeOf(statusCode: number, body: string): ProbeOutcome {
  if (statusCode >= 200 && statusCode < 300) return { result: 'success', output: body, statusCode };
  if (statusCode >= 300 && statusCode < 400) return { result: 'warning', output: `Probe terminated redirects, Response body: ${body}`, statusCode };
  return { result: 'failure', output: `HTTP probe failed with statuscode: ${statusCode}`, statusCode };
}

type RedirectStep =
  | { kind: 'stop' }
  | { kind: 'follow'; next: URL; absolute: boolean }
  | { kind: 'error'; text: string; url?: string };

/** What to do with a response: keep it, follow its Location, or fail as Go's client would. */
function redirectStep(statusCode: number, location: string | undefined, url: string, firstHost: string, requests: number): RedirectStep {
  // Other 3xx codes, and redirects without a Location, are final responses in Go.
  if (!REDIRECT_CODES.has(statusCode) || !location) return { kind: 'stop' };
  let next: URL;
  try {
    next = new URL(location, url);
  } catch (err) {
    return { kind: 'error', text: `failed to parse Location header ${goQuote(location)}: ${(err as Error).message}` };
  }
  // The kubelet does not follow a redirect to another host name (the port may differ).
  if (unbracketed(next.hostname).toLowerCase() !== firstHost.toLowerCase()) return { kind: 'stop' };
  if (requests >= MAX_REQUESTS) return { kind: 'error', text: `stopped after ${MAX_REQUESTS} redirects` };
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    return { kind: 'error', text: `unsupported protocol scheme ${goQuote(next.protocol.slice(0, -1))}`, url: next.href };
  }
  return { kind: 'follow', next, absolute: /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(location) };
}

/**
 * The headers Go sends for the kubelet: the action's (a Host header only sets the host), the
 * User-Agent and Accept: *\/* unless given; given but empty, the header is left out.
 */
function requestHeaders(given: HttpGetTarget['headers'], userAgent: string): Record<string, string[]> {
  const byName = new Map<string, { name: string; values: string[] }>();
  for (const { name, value } of given) {
    const key = name.toLowerCase();
    if (key === 'host') continue;
    const entry = byName.get(key) ?? { name, values: [] };
    entry.values.push(value);
    byName.set(key, entry);
  }
  for (const [key, name, fallback] of [['user-agent', 'User-Agent', userAgent], ['accept', 'Accept', '*/*']] as const) {
    const entry = byName.get(key);
    if (!entry) byName.set(key, { name, values: [fallback] });
    else if (entry.values[0] === '') byName.delete(key);
  }
  return Object.fromEntries([...byName.values()].map((e) => [e.name, e.values]));
}

/** Percent-encodes what may not appear in a request line (spaces, controls, non-ASCII), as Go's URL does. */
function escapePath(path: string): string {
  return path.replace(/[^!-~]|["<>\\^`{|}]/gu, (c) => encodeURIComponent(c));
}

/** The path and query sent on the request line: a fragment is never sent. */
function requestTarget(path: string): string {
  return escapePath(path.replace(/#.*$/s, ''));
}

function unbracketed(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}
