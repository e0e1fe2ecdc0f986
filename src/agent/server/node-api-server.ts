// The node's own API (kubelet port 10250), on HTTPS. One request reads top to bottom:
//   TLS (client certificate requested when there is a client CA)
//   → parse the request target (400) → cap the body (413)
//   → authenticate (401) → authorize (403, or 500 when the API server cannot be asked)
//   → route (404 / 405) → answer.
// Routes: /healthz, /pods (the pods this agent runs, as a PodList) and
// /containerLogs/<ns>/<pod>/<container>, which the API server's node proxy reaches for
// `kubectl logs`. No request, however malformed, may throw out of here: each failure is
// answered and logged with its cause.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Authenticator, RequestUser } from './auth/authenticate.ts';
import { nodeRequestAttributes, type Authorizer } from './auth/authorize.ts';
import { readContainerLog, tail } from './cri-log.ts';
import { listen, type RunningServer } from './healthz-server.ts';
import { isDnsLabel, isDnsSubdomain } from './object-names.ts';
import { parseRequestTarget, type RequestTarget } from './request-target.ts';

export interface NodeApiServerOptions {
  port: number;
  host: string;
  nodeName: string;
  tls: { certPem: string; keyPem: string; clientCaPem?: string };
  authenticate: Authenticator;
  authorize: Authorizer;
  pods: () => V1Pod[];
  podLogsDir: string;
  healthy: () => boolean;
  logger: Logger;
  /** Request bodies past this are refused with 413 (no endpoint here takes one). Default 1 MiB. */
  maxBodyBytes?: number;
}

interface Answer {
  status: number;
  body: string;
  type?: string;
  headers?: Record<string, string>;
}

const text = (status: number, body: string, headers?: Record<string, string>): Answer => ({ status, body, headers });

interface RouteContext {
  params: Record<string, string>;
  target: RequestTarget;
  user: RequestUser;
}

interface Route {
  /** Path segments; ":name" captures one segment. */
  pattern: string[];
  get: (ctx: RouteContext) => Promise<Answer> | Answer;
}

function match(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) params[pattern[i].slice(1)] = segments[i];
    else if (pattern[i] !== segments[i]) return undefined;
  }
  return params;
}

/** Reads and discards a request body, answering whether it stayed within `max` bytes. */
function bodyWithin(req: IncomingMessage, max: number): Promise<boolean> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.resolve(false);
  if (!req.headers['transfer-encoding'] && !declared) return Promise.resolve(true);
  return new Promise((resolve) => {
    let seen = 0;
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > max) {
        req.removeAllListeners('data');
        req.pause();
        resolve(false);
      }
    });
    req.on('end', () => resolve(true));
    req.on('error', () => resolve(false));
  });
}

export function startNodeApiServer(opts: NodeApiServerOptions): Promise<RunningServer> {
  const { logger } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? 1024 * 1024;

  async function containerLogs({ params, target }: RouteContext): Promise<Answer> {
    const { namespace, pod: podName, container } = params;
    if (!isDnsLabel(namespace)) return text(400, `invalid namespace ${JSON.stringify(namespace)}: not a DNS label\n`);
    if (!isDnsSubdomain(podName)) return text(400, `invalid pod name ${JSON.stringify(podName)}: not a DNS subdomain\n`);
    if (!isDnsLabel(container)) return text(400, `invalid container name ${JSON.stringify(container)}: not a DNS label\n`);
    const tailLines = target.query.get('tailLines');
    if (tailLines !== null && !/^\d{1,9}$/.test(tailLines)) return text(400, `tailLines must be a non-negative integer, got ${JSON.stringify(tailLines)}\n`);
    const pod = opts.pods().find((p) => (p.metadata?.namespace ?? 'default') === namespace && p.metadata?.name === podName);
    if (!pod?.metadata?.uid) return text(404, `pod "${namespace}/${podName}" does not exist on this node\n`);
    const spec = pod.spec;
    const known = [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])].some((c) => c.name === container);
    if (!known) return text(404, `container "${container}" not found in pod "${namespace}/${podName}"\n`);
    const log = await readContainerLog(opts.podLogsDir, namespace, podName, pod.metadata.uid, container, target.query.get('previous') === 'true');
    if (log === undefined) return text(404, `no logs for container "${container}" in pod "${namespace}/${podName}"\n`);
    return text(200, tail(log, tailLines === null ? undefined : Number(tailLines)));
  }

  const routes: Route[] = [
    { pattern: ['healthz'], get: () => (opts.healthy() ? text(200, 'ok') : text(500, 'not healthy')) },
    { pattern: ['pods'], get: () => podList() },
    { pattern: ['pods', ''], get: () => podList() },
    { pattern: ['containerLogs', ':namespace', ':pod', ':container'], get: containerLogs },
  ];
  const podList = (): Answer => ({
    status: 200, type: 'application/json', body: JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: opts.pods() }),
  });

  async function answer(req: IncomingMessage): Promise<Answer> {
    const method = req.method ?? '';
    const parsed = parseRequestTarget(req.url);
    if (!parsed.ok) {
      logger.debug({ method, why: parsed.problem }, 'node API: bad request target');
      return text(400, `400 Bad Request: ${parsed.problem}\n`, { connection: 'close' });
    }
    const { target } = parsed;
    if (!(await bodyWithin(req, maxBodyBytes))) {
      logger.info({ method, path: target.path, maxBodyBytes }, 'node API: request body too large');
      return text(413, `request body larger than ${maxBodyBytes} bytes\n`, { connection: 'close' });
    }

    const authn = await opts.authenticate(req);
    if (!authn.ok) {
      logger.info({ method, path: target.path, why: authn.reason }, 'node API: unauthenticated request refused');
      return text(401, 'Unauthorized');
    }
    const decision = await opts.authorize(authn.user, nodeRequestAttributes(method, target.path, opts.nodeName));
    if (!decision.allowed) {
      logger.info({ method, path: target.path, user: authn.user.name, groups: authn.user.groups, status: decision.status, why: decision.reason ?? decision.message }, 'node API: request not authorized');
      return text(decision.status, decision.message);
    }

    for (const route of routes) {
      const params = match(route.pattern, target.segments);
      if (!params) continue;
      if (method !== 'GET') return text(405, `method ${method} not allowed on ${target.path}\n`, { allow: 'GET' });
      return route.get({ params, target, user: authn.user });
    }
    return text(404, '404 page not found\n');
  }

  const server = createServer({
    cert: opts.tls.certPem,
    key: opts.tls.keyPem,
    // Client certificates are asked for, never required: a client without one may still use a
    // token. Verification happens here; authenticate() reads its verdict (socket.authorized).
    ...(opts.tls.clientCaPem ? { requestCert: true, rejectUnauthorized: false, ca: opts.tls.clientCaPem } : {}),
  }, (req: IncomingMessage, res: ServerResponse) => {
    answer(req).then((a) => {
      res.writeHead(a.status, { 'content-type': a.type ?? 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...a.headers }).end(a.body);
    }).catch((err: unknown) => {
      logger.error({ err, method: req.method, url: req.url?.slice(0, 200) }, 'node API: request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('internal error\n');
      else res.destroy();
    });
  });
  server.on('tlsClientError', (err) => logger.debug({ err }, 'node API: TLS handshake failed'));
  return listen(server, opts.port, opts.host).then((running) => {
    // After listening, a server error must be logged, not thrown (an 'error' event without a listener would be).
    server.on('error', (err) => logger.error({ err }, 'node API server error'));
    return running;
  });
}
