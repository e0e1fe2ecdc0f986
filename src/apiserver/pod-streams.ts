// pods/exec, pods/attach and pods/portforward, as kube-apiserver serves them: an HTTP upgrade
// from kubectl, authenticated and authorized like any request (create for POST, get for GET),
// checked against the pod (bound, not finished, the container exists), then relayed to the
// node's /exec, /attach or /portForward with this server's own client certificate. The stream
// itself is the client's and the runtime's. kubectl 1.32 asks for WebSocket first: exec and attach
// are translated to SPDY toward the node, port-forward's tunnelled SPDY is unwrapped
// (stream-translator.ts); a client that asks for SPDY gets it relayed end to end.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ApiError, badRequest, internalError, unknownResource } from './errors.ts';
import { containerForLogs, kubeletAddress, type KubeletClient } from './node-proxy.ts';
import { resourceKey, resourceTypes } from './registry.ts';
import { parseResourcePath } from './routes.ts';
import type { ResourceService } from './resources.ts';
import type { Authorizer } from './auth/attributes.ts';
import type { RequestAuthenticator } from './auth/authenticator.ts';
import { forbiddenRequest } from './auth/denials.ts';
import { requestAttributes } from './auth/request-info.ts';
import { refuseUpgrade, relayUpgrade } from '../util/http-upgrade.ts';
import type { KubeObject } from './store.ts';
import { WebSocketServer } from 'ws';
import { EXEC_WEBSOCKET_PROTOCOLS, PORT_FORWARD_TUNNEL_PROTOCOL, translateExecSession, tunnelPortForward, upgradeToNode } from './stream-translator.ts';

export interface PodStreamDeps {
  authenticator: RequestAuthenticator;
  authorizer: Authorizer;
  resources: ResourceService;
  kubelets: KubeletClient;
}

const STREAM_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);
const CHOSEN_PROTOCOL_TOKEN = 'chosen-by-mini-kubelet';
const nodeKey = resourceKey(resourceTypes.find((t) => t.plural === 'nodes' && !t.group)!);
const truthy = (q: URLSearchParams, name: string) => q.get(name) === 'true' || q.get(name) === '1';

/** The node's path for a pod stream, from the client's query (kube-apiserver's streamLocation). PURE. */
export function nodeStreamPath(subresource: string, pod: KubeObject, query: URLSearchParams): string {
  const ns = encodeURIComponent(pod.metadata.namespace ?? 'default');
  const name = encodeURIComponent(pod.metadata.name);
  const params = new URLSearchParams();
  if (subresource === 'portforward') {
    for (const p of query.getAll('ports')) params.append('port', p);
    return `/portForward/${ns}/${name}${params.size ? `?${params}` : ''}`;
  }
  const container = containerForLogs(pod, query.get('container'));
  if (subresource === 'exec') {
    const command = query.getAll('command');
    if (command.length === 0) throw badRequest('you must specify at least one command for the container');
    for (const c of command) params.append('command', c);
  }
  if (truthy(query, 'stdin')) params.set('input', '1');
  if (truthy(query, 'stdout')) params.set('output', '1');
  if (truthy(query, 'stderr')) params.set('error', '1');
  if (truthy(query, 'tty')) params.set('tty', '1');
  const root = subresource === 'exec' ? 'exec' : 'attach';
  return `/${root}/${ns}/${name}/${encodeURIComponent(container)}?${params}`;
}

/** The WebSocket subprotocol to answer with; none offered that we speak is a 400, and kubectl then falls back to SPDY. */
function chooseWebSocketProtocol(subresource: string, offered: string): string {
  const protocols = offered.split(',').map((p) => p.trim()).filter(Boolean);
  const ours: readonly string[] = subresource === 'portforward' ? [PORT_FORWARD_TUNNEL_PROTOCOL] : EXEC_WEBSOCKET_PROTOCOLS;
  const chosen = ours.find((p) => protocols.includes(p));
  if (!chosen) throw badRequest(`none of the offered WebSocket subprotocols (${protocols.join(', ') || 'none'}) is served; this server speaks ${ours.join(', ')}`);
  return chosen;
}

export function createUpgradeListener(deps: PodStreamDeps, log: Logger) {
  // The subprotocol was chosen (and checked) before the upgrade is completed.
  const chosenProtocols = new WeakMap<IncomingMessage, string>();
  const webSockets = new WebSocketServer({ noServer: true, handleProtocols: (_offered, req) => chosenProtocols.get(req) ?? false });
  const refuse = (socket: Duplex, err: ApiError) => refuseUpgrade(socket, err.code, JSON.stringify(err.toStatus()), 'application/json');

  async function open(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://apiserver');
    const user = await deps.authenticator.authenticate(req);
    const attributes = requestAttributes(user, req.method ?? 'GET', url);
    const decision = deps.authorizer.authorize(attributes);
    if (decision.decision !== 'allow') throw forbiddenRequest(attributes, decision.reason);
    const route = parseResourcePath(url.pathname);
    if (!route || route.type.plural !== 'pods' || route.type.group || !route.name || !route.namespace || !STREAM_SUBRESOURCES.has(route.subresource ?? '')) throw unknownResource();
    const subresource = route.subresource!;
    const websocket = /websocket/i.test(String(req.headers.upgrade ?? ''));
    const wsProtocol = websocket ? chooseWebSocketProtocol(subresource, String(req.headers['sec-websocket-protocol'] ?? '')) : undefined;
    const pod = deps.resources.get(route.type, route.namespace, route.name);
    const nodeName: string | undefined = pod.spec?.nodeName;
    if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      throw badRequest(subresource === 'portforward'
        ? `cannot port-forward to a completed pod; current phase is ${phase}`
        : `cannot ${subresource === 'exec' ? 'exec into' : 'attach to'} a container in a completed pod; current phase is ${phase}`);
    }
    const path = nodeStreamPath(subresource, pod, url.searchParams);
    const { host, port } = kubeletAddress(deps.resources.store.get(nodeKey, '', nodeName), nodeName);
    const upstream = deps.kubelets.dial(host, port);
    if (wsProtocol) {
      const node = await upgradeToNode(upstream, `${host}:${port}`, path, subresource === 'portforward' ? 'portforward.k8s.io' : 'v4.channel.k8s.io');
      // ws accepts only RFC 7230 tokens as subprotocols, and the port-forward tunnel's has a '/':
      // the choice is made above, so ws is handed a token that stands for it.
      req.headers['sec-websocket-protocol'] = CHOSEN_PROTOCOL_TOKEN;
      chosenProtocols.set(req, wsProtocol);
      webSockets.handleUpgrade(req, socket, head, (ws) => {
        if (subresource === 'portforward') return tunnelPortForward(ws, node);
        const q = url.searchParams;
        translateExecSession(ws, node, { stdin: truthy(q, 'stdin'), stdout: truthy(q, 'stdout'), stderr: truthy(q, 'stderr'), tty: truthy(q, 'tty') });
      });
      log.debug({ user: user.name, pod: `${route.namespace}/${route.name}`, subresource, protocol: wsProtocol }, 'pod stream translated from WebSocket');
      return;
    }
    // The user's credentials stay here; the node sees this server's certificate and judges it.
    relayUpgrade(req, socket, head, upstream, { path, host: `${host}:${port}`, drop: /^(authorization|impersonate-.*)$/i }, (err) => {
      if (err) log.debug({ err: err.message, pod: `${route.namespace}/${route.name}`, subresource }, 'pod stream ended with an error');
    });
    log.debug({ user: user.name, pod: `${route.namespace}/${route.name}`, subresource }, 'pod stream relayed to the node');
  }

  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', (err) => log.debug({ err }, 'upgraded connection failed'));
    open(req, socket, head).catch((err: unknown) => {
      const apiErr = err instanceof ApiError ? err : internalError(err instanceof Error ? err.message : String(err));
      if (!(err instanceof ApiError)) log.error({ err, url: req.url }, 'pod stream failed');
      refuse(socket, apiErr);
    });
  };
}
