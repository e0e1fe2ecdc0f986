// The HTTP front, in kube-apiserver's order: authenticate (401), work out what is asked and
// authorize it (403), then health and version, discovery, OpenAPI, reviews, node proxying and
// resource URLs. Every failure becomes a Status answer; nothing a client sends can crash the process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  aggregatedDiscovery, aggregatedDiscoveryType, apiGroupDocument, apiGroupList, apiResourceList, apiVersions, serverVersion,
  wantsAggregatedDiscovery,
} from './discovery.ts';
import { ApiError, badRequest, internalError, methodNotAllowed, unknownResource } from './errors.ts';
import { sendError, sendJson, sendText } from './http-io.ts';
import { openApiV3Document, openApiV3Index } from './openapi.ts';
import type { KubeletClient } from './node-proxy.ts';
import { certificatesGroup, isMetricsType, isReviewType, resourceKey, resourceTypes } from './registry.ts';
import { requireSignerPermission } from './certificates/csr-admission.ts';
import type { MetricsApi } from './metrics-api.ts';
import type { ResourceHandlers } from './resource-handlers.ts';
import type { ResourceService } from './resources.ts';
import type { Reviews } from './reviews.ts';
import { parseResourcePath, type ResourceRoute } from './routes.ts';
import type { TokenRequests } from './token-requests.ts';
import type { Authorizer, UserInfo } from './auth/attributes.ts';
import type { RequestAuthenticator } from './auth/authenticator.ts';
import { forbiddenRequest } from './auth/denials.ts';
import { requestAttributes } from './auth/request-info.ts';

export interface RequestPipeline {
  authenticator: RequestAuthenticator;
  authorizer: Authorizer;
  resources: ResourceService;
  handlers: ResourceHandlers;
  reviews: Reviews;
  tokenRequests: TokenRequests;
  kubelets: KubeletClient;
  /** metrics.k8s.io: NodeMetrics and PodMetrics from the nodes' /metrics/resource. */
  metrics: MetricsApi;
  /** Told of every authenticated request as it arrives (tests and benchmarks count a client's calls). */
  onRequest?: (r: ObservedRequest) => void;
}

export interface ObservedRequest {
  method: string;
  path: string;
  /** The query string without "?" ('' when none). */
  query: string;
  user: string;
  /** performance.now() when the request was authenticated. */
  atMs: number;
}

const healthPaths = /^\/(healthz|livez|readyz)(\/.*)?$/;

export function createRequestListener(pipeline: RequestPipeline, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://apiserver');
    } catch {
      req.resume();
      return sendError(res, badRequest(`malformed request URL: ${String(req.url)}`));
    }
    let user: UserInfo | undefined;
    res.on('finish', () => log.debug({ method: req.method, path: url.pathname, query: url.search, user: user?.name, code: res.statusCode, ms: Date.now() - started }, 'request'));
    (async () => {
      user = await pipeline.authenticator.authenticate(req);
      pipeline.onRequest?.({ method: req.method ?? 'GET', path: url.pathname, query: url.search.slice(1), user: user.name, atMs: performance.now() });
      const attributes = requestAttributes(user, req.method ?? 'GET', url);
      const decision = pipeline.authorizer.authorize(attributes);
      if (decision.decision !== 'allow') throw forbiddenRequest(attributes, decision.reason);
      await route(req, res, url, pipeline, user);
    })().catch((err: unknown) => {
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

async function route(req: IncomingMessage, res: ServerResponse, url: URL, pipeline: RequestPipeline, user: UserInfo): Promise<void> {
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

  const resourceRoute = parseResourcePath(url.pathname);
  if (resourceRoute) return routeResource(req, res, resourceRoute, url.searchParams, pipeline, user);

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

const nodeKey = resourceKey(resourceTypes.find((t) => t.plural === 'nodes' && !t.group)!);

/** Reviews, token requests and what goes on to a node have handlers of their own; the rest are object verbs. */
function routeResource(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, query: URLSearchParams, pipeline: RequestPipeline, user: UserInfo): Promise<void> {
  const { type, name, subresource } = route;
  if (isReviewType(type)) return pipeline.reviews.handle(req, res, route, user);
  if (isMetricsType(type)) return pipeline.metrics.handle(req, res, route, query);
  if (name !== undefined && subresource && (!type.namespaced || route.namespace !== undefined)) {
    const namespace = route.namespace ?? '';
    if (subresource === 'token') return pipeline.tokenRequests.handle(req, res, namespace, name, user);
    // exec, attach and portforward are served as upgrades (pod-streams.ts); a plain request is told so.
    if (subresource === 'exec' || subresource === 'attach' || subresource === 'portforward') throw badRequest('Upgrade request required');
    if (subresource === 'log') {
      if (req.method !== 'GET') throw methodNotAllowed();
      const pod = pipeline.resources.get(type, namespace, name);
      const node = pod.spec?.nodeName ? pipeline.resources.store.get(nodeKey, '', pod.spec.nodeName) : undefined;
      return pipeline.kubelets.podLogs(res, pod, node, query);
    }
    if (subresource === 'proxy') {
      return pipeline.kubelets.proxy(req, res, pipeline.resources.store.get(nodeKey, '', name), name, route.proxyPath ?? '/', query);
    }
    // Deciding a CSR or issuing its certificate needs a right on its signer too.
    if (type.group === certificatesGroup && (subresource === 'approval' || subresource === 'status') && req.method !== 'GET') {
      requireSignerPermission(pipeline.authorizer, user, subresource === 'approval' ? 'approve' : 'sign', pipeline.resources.get(type, '', name));
    }
  }
  return pipeline.handlers.handle(req, res, route, query, user);
}
