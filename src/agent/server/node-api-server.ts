// The node's own API (kubelet port 10250), on HTTPS. One request reads top to bottom:
//   TLS (client certificate requested when there is a client CA)
//   → parse the request target (400) → cap the body (413)
//   → authenticate (401) → authorize (403, or 500 when the API server cannot be asked)
//   → route (404 / 405) → answer.
// Routes: /healthz, /pods (the pods this agent runs, as a PodList), /metrics (the agent's
// Prometheus metrics, src/agent/metrics/), /metrics/resource and /stats/summary (what the
// node and its containers use, src/agent/stats/), /configz (the configuration in effect) and
// /containerLogs/<ns>/<pod>/<container>, which the API server's node proxy reaches for
// `kubectl logs`; and, as HTTP upgrades, /exec, /attach and /portForward (streaming.ts), which
// are relayed to the runtime's streaming server once admitted the same way. With `timelines`,
// /debug/pods and /debug/pods/<ns>/<name>/timeline (timeline-routes.ts) show pods' timelines. No request, however
// malformed, may throw out of here: each failure is answered and logged with its cause.
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Authenticator, RequestUser } from './auth/authenticate.ts';
import { nodeRequestAttributes, type Authorizer } from './auth/authorize.ts';
import { attemptFor, chooseLogInstance, containerLogDir, logAttempts, parseLogQuery, streamLogFile } from './cri-log.ts';
import { listen, type RunningServer } from './healthz-server.ts';
import { isDnsLabel, isDnsSubdomain } from './object-names.ts';
import { parseRequestTarget, type RequestTarget } from './request-target.ts';
import { relayToRuntime, streamRequestOf, STREAMING_ROOTS } from './streaming.ts';
import { refuseUpgrade } from '../../util/http-upgrade.ts';
import type { Duplex } from 'node:stream';
import type { StreamRequest } from '../../cri/runtime-manager/pod-runtime.ts';
import type { PodTimelines } from '../../trace/pod-timeline.ts';
import { timelineRoutes } from './timeline-routes.ts';

export interface NodeApiServerOptions {
  port: number;
  host: string;
  nodeName: string;
  tls: { certPem: string; keyPem: string; clientCaPem?: string };
  authenticate: Authenticator;
  authorize: Authorizer;
  pods: () => V1Pod[];
  /** The runtime's streaming server for an exec, attach or port-forward session. */
  streamingUrl: (req: StreamRequest) => Promise<string>;
  podLogsDir: string;
  healthy: () => boolean;
  /** /metrics: the Prometheus exposition (authorized as nodes/metrics); absent: no route. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** /stats/summary: the Summary API document (nodes/stats); absent: no route. */
  statsSummary?: () => Promise<object>;
  /** /metrics/resource: the resource metrics exposition (nodes/metrics); absent: no route. */
  resourceMetrics?: () => Promise<{ contentType: string; body: string }>;
  /** /configz: {"kubeletconfig": {...}} (nodes/configz, then nodes/proxy); absent: no route. */
  configz?: () => object;
  /** /debug/pods and /debug/pods/<ns>/<name>/timeline (nodes/proxy): the pods' timelines; absent: no routes. */
  timelines?: PodTimelines;
  logger: Logger;
  /** Request bodies past this are refused with 413 (no endpoint here takes one). Default 1 MiB. */
  maxBodyBytes?: number;
}

interface Answer {
  status: number;
  body: string;
  type?: string;
  headers?: Record<string, string>;
  /** Instead of body: writes the answer as it comes (headers are sent first); `signal` aborts when the client goes. */
  stream?: (res: ServerResponse, signal: AbortSignal) => Promise<void>;
}

const text = (status: number, body: string, headers?: Record<string, string>): Answer => ({ status, body, headers });

interface RouteContext {
  params: Record<string, string>;
  target: RequestTarget;
  user: RequestUser;
  /** The Accept header (the timeline routes answer JSON or HTML by it). */
  accept?: string;
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

/** Writes one chunk of a streamed answer; resolves once the client can take more (or has gone). */
function writeChunk(res: ServerResponse, chunk: Buffer, signal: AbortSignal): Promise<void> {
  if (res.write(chunk) || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done);
  });
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

interface SummaryShape { node: Record<string, unknown>; pods: Array<Record<string, unknown>> }

function cpuAndMemoryOnly(s: SummaryShape): SummaryShape {
  const keep = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => keys.includes(k)));
  return {
    node: keep(s.node, ['nodeName', 'startTime', 'cpu', 'memory']),
    pods: s.pods.map((p) => ({
      ...keep(p, ['podRef', 'startTime', 'cpu', 'memory']),
      containers: ((p.containers as Array<Record<string, unknown>> | undefined) ?? []).map((c) => keep(c, ['name', 'startTime', 'cpu', 'memory'])),
    })),
  };
}

export interface RunningNodeApiServer extends RunningServer {
  /** Serves a new certificate from the next TLS handshake on (a renewed serving certificate). */
  setServingCertificate(certPem: string, keyPem: string): void;
}

export function startNodeApiServer(opts: NodeApiServerOptions): Promise<RunningNodeApiServer> {
  const { logger } = opts;
  const maxBodyBytes = opts.maxBodyBytes ?? 1024 * 1024;

  /**
   * `kubectl logs` (the API server's pods/log reaches here): one instance's log file, chosen from
   * the pod's status as the kubelet chooses it, streamed under the kubelet's log options; with
   * follow=true, on until the instance has stopped and its file is drained, or the client goes.
   * Bad options are 400, and so is a container without the instance asked for (the kubelet's texts).
   */
  async function containerLogs({ params, target }: RouteContext): Promise<Answer> {
    const { namespace, pod: podName, container } = params;
    if (!isDnsLabel(namespace)) return text(400, `invalid namespace ${JSON.stringify(namespace)}: not a DNS label\n`);
    if (!isDnsSubdomain(podName)) return text(400, `invalid pod name ${JSON.stringify(podName)}: not a DNS subdomain\n`);
    if (!isDnsLabel(container)) return text(400, `invalid container name ${JSON.stringify(container)}: not a DNS label\n`);
    const query = parseLogQuery(target.query, Date.now());
    if (!query.ok) return text(400, query.message);
    const pod = opts.pods().find((p) => (p.metadata?.namespace ?? 'default') === namespace && p.metadata?.name === podName);
    const uid = pod?.metadata?.uid;
    if (!pod || !uid) return text(404, `pod "${namespace}/${podName}" does not exist on this node\n`);
    const spec = pod.spec;
    const known = [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])].some((c) => c.name === container);
    if (!known) return text(404, `container "${container}" not found in pod "${namespace}/${podName}"\n`);
    const noLogs = text(404, `no logs for container "${container}" in pod "${namespace}/${podName}"\n`);
    const dir = containerLogDir(opts.podLogsDir, namespace, podName, uid, container);
    if (!dir) return noLogs;
    const instance = chooseLogInstance(pod, container, query.previous);
    if (instance && !instance.ok) return text(400, instance.message);
    const attempts = await logAttempts(dir);
    const attempt = attemptFor(attempts, instance, query.previous);
    if (attempt === undefined) {
      return query.previous && !instance ? text(400, `previous terminated container "${container}" in pod "${podName}" not found`) : noLogs;
    }
    const path = join(dir, `${attempt}.log`);
    let file: FileHandle;
    try {
      file = await open(path, 'r');
    } catch {
      return noLogs;
    }
    // Followed while this very instance runs, as the pod's latest status says.
    const running = (): boolean => {
      if (!instance?.ok) return false;
      const now = opts.pods().find((p) => p.metadata?.uid === uid)?.status;
      const cs = [...(now?.containerStatuses ?? []), ...(now?.initContainerStatuses ?? []), ...(now?.ephemeralContainerStatuses ?? [])].find((c) => c.name === container);
      return !!cs?.state?.running && cs.containerID === instance.containerId;
    };
    return {
      status: 200, body: '',
      stream: (res, signal) => streamLogFile(file, path, { ...query.options, running, signal, write: (chunk) => writeChunk(res, chunk, signal) }),
    };
  }

  const routes: Route[] = [
    { pattern: ['healthz'], get: () => (opts.healthy() ? text(200, 'ok') : text(500, 'not healthy')) },
    { pattern: ['pods'], get: () => podList() },
    { pattern: ['pods', ''], get: () => podList() },
    ...(opts.metrics ? [{ pattern: ['metrics'], get: metricsAnswer }] : []),
    ...(opts.resourceMetrics ? [{ pattern: ['metrics', 'resource'], get: resourceMetricsAnswer }] : []),
    ...(opts.statsSummary ? [{ pattern: ['stats', 'summary'], get: summaryAnswer }] : []),
    ...(opts.configz ? [{ pattern: ['configz'], get: () => json(opts.configz!()) }] : []),
    { pattern: ['containerLogs', ':namespace', ':pod', ':container'], get: containerLogs },
    ...(opts.timelines ? timelineRoutes(opts.timelines, opts.nodeName) : []),
  ];
  async function metricsAnswer(): Promise<Answer> {
    const { contentType, body } = await opts.metrics!();
    return { status: 200, type: contentType, body };
  }
  async function resourceMetricsAnswer(): Promise<Answer> {
    const { contentType, body } = await opts.resourceMetrics!();
    return { status: 200, type: contentType, body };
  }
  /** The kubelet's only_cpu_and_memory=true (what metrics-server once asked for) drops the filesystems. */
  async function summaryAnswer({ target }: RouteContext): Promise<Answer> {
    let summary: object;
    try {
      summary = await opts.statsSummary!();
    } catch (err) {
      logger.warn({ err }, 'node API: stats summary failed');
      return text(500, `Internal Error: failed to get summary stats: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    if (target.query.get('only_cpu_and_memory') === 'true') summary = cpuAndMemoryOnly(summary as SummaryShape);
    return json(summary);
  }
  const json = (body: unknown): Answer => ({ status: 200, type: 'application/json', body: JSON.stringify(body) });
  const podList = (): Answer => ({
    status: 200, type: 'application/json', body: JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: opts.pods() }),
  });

  /** What every request passes, plain or upgrade: its target parsed, its caller authenticated and authorized. */
  async function admit(req: IncomingMessage, upgrade: boolean): Promise<{ ok: true; target: RequestTarget; user: RequestUser } | { ok: false; answer: Answer }> {
    const method = req.method ?? '';
    const parsed = parseRequestTarget(req.url);
    if (!parsed.ok) {
      logger.debug({ method, why: parsed.problem }, 'node API: bad request target');
      return { ok: false, answer: text(400, `400 Bad Request: ${parsed.problem}\n`, { connection: 'close' }) };
    }
    const { target } = parsed;
    // An upgraded connection's bytes belong to the stream, not to a body.
    if (!upgrade && !(await bodyWithin(req, maxBodyBytes))) {
      logger.info({ method, path: target.path, maxBodyBytes }, 'node API: request body too large');
      return { ok: false, answer: text(413, `request body larger than ${maxBodyBytes} bytes\n`, { connection: 'close' }) };
    }

    const authn = await opts.authenticate(req);
    if (!authn.ok) {
      logger.info({ method, path: target.path, why: authn.reason }, 'node API: unauthenticated request refused');
      return { ok: false, answer: text(401, 'Unauthorized') };
    }
    const decision = await opts.authorize(authn.user, nodeRequestAttributes(method, target.path, opts.nodeName));
    if (!decision.allowed) {
      logger.info({ method, path: target.path, user: authn.user.name, groups: authn.user.groups, status: decision.status, why: decision.reason ?? decision.message }, 'node API: request not authorized');
      return { ok: false, answer: text(decision.status, decision.message) };
    }
    return { ok: true, target, user: authn.user };
  }

  async function answer(req: IncomingMessage): Promise<Answer> {
    const method = req.method ?? '';
    const admitted = await admit(req, false);
    if (!admitted.ok) return admitted.answer;
    const { target } = admitted;
    if (STREAMING_ROOTS.has(target.segments[0] ?? '')) return text(400, 'Upgrade request required\n');

    for (const route of routes) {
      const params = match(route.pattern, target.segments);
      if (!params) continue;
      if (method !== 'GET') return text(405, `method ${method} not allowed on ${target.path}\n`, { allow: 'GET' });
      return route.get({ params, target, user: admitted.user, accept: req.headers.accept });
    }
    return text(404, '404 page not found\n');
  }

  /** exec, attach, portForward: admitted like any request, then handed to the runtime's streaming server. */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const admitted = await admit(req, true);
    if (!admitted.ok) return refuseUpgrade(socket, admitted.answer.status, admitted.answer.body.endsWith('\n') ? admitted.answer.body : `${admitted.answer.body}\n`);
    const { target, user } = admitted;
    if (!STREAMING_ROOTS.has(target.segments[0] ?? '')) return refuseUpgrade(socket, 404, '404 page not found\n');
    const session = streamRequestOf(target, opts.pods());
    if (!session.ok) return refuseUpgrade(socket, session.status, `${session.message}\n`);
    let url: string;
    try {
      url = await opts.streamingUrl(session.request);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      logger.info({ pod: session.pod, kind: session.request.kind, err: message }, 'node API: the runtime refused a stream');
      return refuseUpgrade(socket, 500, `${message}\n`);
    }
    logger.info({ pod: session.pod, kind: session.request.kind, user: user.name }, 'node API: stream session');
    relayToRuntime(req, socket, head, url, logger);
  }

  const server = createServer({
    cert: opts.tls.certPem,
    key: opts.tls.keyPem,
    // Client certificates are asked for, never required: a client without one may still use a
    // token. Verification happens here; authenticate() reads its verdict (socket.authorized).
    ...(opts.tls.clientCaPem ? { requestCert: true, rejectUnauthorized: false, ca: opts.tls.clientCaPem } : {}),
  }, (req: IncomingMessage, res: ServerResponse) => {
    answer(req).then(async (a) => {
      res.writeHead(a.status, { 'content-type': a.type ?? 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', ...a.headers });
      if (!a.stream) return void res.end(a.body);
      // Headers now, so a follower that waits for the first line already has its answer.
      res.flushHeaders();
      const gone = new AbortController();
      res.on('close', () => gone.abort());
      // The client may have gone while the answer was being prepared ('close' came already).
      if (res.destroyed || req.socket.destroyed) gone.abort();
      await a.stream(res, gone.signal);
      res.end();
    }).catch((err: unknown) => {
      logger.error({ err, method: req.method, url: req.url?.slice(0, 200) }, 'node API: request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('internal error\n');
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => logger.debug({ err }, 'node API: upgraded connection failed'));
    upgrade(req, socket, head).catch((err: unknown) => {
      logger.error({ err, url: req.url?.slice(0, 200) }, 'node API: stream request failed');
      refuseUpgrade(socket, 500, 'internal error\n');
    });
  });
  server.on('tlsClientError', (err) => logger.debug({ err }, 'node API: TLS handshake failed'));
  return listen(server, opts.port, opts.host).then((running) => {
    // After listening, a server error must be logged, not thrown (an 'error' event without a listener would be).
    server.on('error', (err) => logger.error({ err }, 'node API server error'));
    return {
      ...running,
      setServingCertificate(certPem: string, keyPem: string) {
        server.setSecureContext({ cert: certPem, key: keyPem, ...(opts.tls.clientCaPem ? { ca: opts.tls.clientCaPem } : {}) });
      },
    };
  });
}
