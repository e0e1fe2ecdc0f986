// The HTTP front: health and version, discovery, OpenAPI, then resource URLs. Every failure
// becomes a Status answer; nothing a client sends can crash the process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  aggregatedDiscovery, aggregatedDiscoveryType, apiGroupDocument, apiGroupList, apiResourceList, apiVersions, serverVersion,
  wantsAggregatedDiscovery,
} from './discovery.ts';
import { ApiError, badRequest, internalError, methodNotAllowed, unknownResource } from './errors.ts';
import { sendError, sendJson, sendText } from './http-io.ts';
import { openApiV3Document, openApiV3Index } from './openapi.ts';
import type { ResourceHandlers } from './resource-handlers.ts';
import { parseResourcePath } from './routes.ts';

const healthPaths = /^\/(healthz|livez|readyz)(\/.*)?$/;

export function createRequestListener(handlers: ResourceHandlers, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://apiserver');
    } catch {
      req.resume();
      return sendError(res, badRequest(`malformed request URL: ${String(req.url)}`));
    }
    res.on('finish', () => log.debug({ method: req.method, path: url.pathname, query: url.search, code: res.statusCode, ms: Date.now() - started }, 'request'));
    route(req, res, url, handlers).catch((err: unknown) => {
      const apiErr = err instanceof ApiError ? err : internalError(err instanceof Error ? err.message : String(err));
      if (!(err instanceof ApiError)) log.error({ err, method: req.method, path: url.pathname }, 'request failed');
      if (res.headersSent) {
        res.end();
        return;
      }
      // Drain what is left of the body so the connection stays usable.
      req.resume();
      sendError(res, apiErr);
    });
  };
}

async function route(req: IncomingMessage, res: ServerResponse, url: URL, handlers: ResourceHandlers): Promise<void> {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  if (healthPaths.test(path)) return sendText(res, 200, 'ok');
  if (path === '/version') return sendJson(res, 200, serverVersion);
  if (path === '/openapi/v3') return sendJson(res, 200, openApiV3Index());
  if (path.startsWith('/openapi/v3/')) {
    const doc = openApiV3Document(path.slice('/openapi/v3/'.length));
    if (!doc) throw unknownResource();
    return sendJson(res, 200, doc);
  }

  const resourceRoute = parseResourcePath(path);
  if (resourceRoute) return handlers.handle(req, res, resourceRoute, url.searchParams);

  if (method !== 'GET') throw methodNotAllowed();
  const seg = path.split('/').filter(Boolean);
  const aggregated = wantsAggregatedDiscovery(req.headers.accept);
  if (path === '/api') {
    if (aggregated) return sendJson(res, 200, aggregatedDiscovery(true), aggregatedDiscoveryType);
    return sendJson(res, 200, apiVersions(String(req.headers.host ?? '')));
  }
  if (path === '/apis') {
    if (aggregated) return sendJson(res, 200, aggregatedDiscovery(false), aggregatedDiscoveryType);
    return sendJson(res, 200, apiGroupList());
  }
  if (seg[0] === 'api' && seg.length === 2) {
    const list = apiResourceList('', seg[1]);
    if (list) return sendJson(res, 200, list);
  }
  if (seg[0] === 'apis' && seg.length === 2) {
    const group = apiGroupDocument(seg[1]);
    if (group) return sendJson(res, 200, group);
  }
  if (seg[0] === 'apis' && seg.length === 3) {
    const list = apiResourceList(seg[1], seg[2]);
    if (list) return sendJson(res, 200, list);
  }
  throw unknownResource();
}
