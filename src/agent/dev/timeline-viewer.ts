// `mini-kubelet dev`'s timeline viewer: a browser cannot present the admin's client certificate,
// so dev serves the node's /debug/pods pages on 127.0.0.1 over plain HTTP and fetches each one
// through the API server's nodes/proxy with its own admin credentials, as `kubectl proxy` does.
// Only GETs of /debug/pods... pass; anything else is refused here, never forwarded. The Host
// header must name this loopback address, so a web page that rebinds its DNS name to 127.0.0.1
// cannot read the timelines through a visitor's browser.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { KubeConfig } from '../api/kubeconfig.ts';
import { apiGetter, type ApiGet } from '../../trace/api-get.ts';

export interface TimelineViewerOptions {
  kubeConfig: KubeConfig;
  nodeName: string;
  /** 0: an ephemeral port. */
  port: number;
  logger: Logger;
  /** For tests: how to GET from the API server (default: with kubeConfig's credentials). */
  get?: ApiGet;
}

export interface RunningTimelineViewer {
  port: number;
  url: string;
  /** The address of one pod's timeline page here. */
  timelineUrl(namespace: string, name: string): string;
  stop(): Promise<void>;
}

/** One path segment of a namespace or pod name (DNS labels and subdomains), never `.` or `..`. */
const segment = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

/** The node path for a viewer path, or undefined when it is not one of the debug pages. */
export function debugPathOf(pathname: string): string | undefined {
  if (pathname === '/debug/pods' || pathname === '/debug/pods/') return pathname;
  const m = /^\/debug\/pods\/([^/]+)\/([^/]+)\/timeline$/.exec(pathname);
  if (!m || !segment.test(m[1]) || !segment.test(m[2]) || m[1].includes('.')) return undefined;
  return pathname;
}

export function startTimelineViewer(opts: TimelineViewerOptions): Promise<RunningTimelineViewer> {
  const get = opts.get ?? apiGetter(opts.kubeConfig);
  const proxyBase = `/api/v1/nodes/${encodeURIComponent(opts.nodeName)}/proxy`;
  let allowedHosts = new Set<string>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (status: number, message: string, headers: Record<string, string> = {}) =>
      void res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${message}\n`);
    if (!allowedHosts.has(String(req.headers.host ?? '').toLowerCase())) return refuse(421, 'this viewer answers only at its own 127.0.0.1/localhost address');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(405, `method ${req.method} not allowed: the viewer only reads`, { allow: 'GET, HEAD' });
    const url = new URL(req.url ?? '/', 'http://viewer');
    if (url.pathname === '/') return void res.writeHead(302, { location: '/debug/pods' }).end();
    const path = debugPathOf(url.pathname);
    if (!path) return refuse(404, 'not found: the viewer serves /debug/pods and /debug/pods/<namespace>/<pod>/timeline');
    const format = url.searchParams.get('format');
    const answer = await get(`${proxyBase}${path}`, format ? { format } : undefined, req.headers.accept ?? 'text/html');
    const keep: Record<string, string> = { 'content-type': answer.contentType || 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };
    for (const h of ['content-security-policy', 'cache-control']) if (answer.headers[h]) keep[h] = String(answer.headers[h]);
    res.writeHead(answer.status, keep).end(req.method === 'HEAD' ? undefined : answer.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.logger.warn({ err: String(err), url: req.url?.slice(0, 200) }, 'timeline viewer: the node could not be reached');
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' }).end(`the node's timeline could not be reached through the API server: ${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      server.on('error', (err) => opts.logger.error({ err }, 'timeline viewer error'));
      const { port } = server.address() as AddressInfo;
      allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
      const url = `http://127.0.0.1:${port}`;
      resolve({
        port, url,
        timelineUrl: (ns, name) => `${url}/debug/pods/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/timeline`,
        stop: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
