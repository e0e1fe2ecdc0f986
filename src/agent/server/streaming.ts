// kubectl exec, attach and port-forward at the node, as the kubelet serves them:
//   /exec/<ns>/<pod>[/<uid>]/<container>?command=...&input=1&output=1&error=1&tty=1
//   /attach/<ns>/<pod>[/<uid>]/<container>?input=1&output=1&error=1&tty=1
//   /portForward/<ns>/<pod>[/<uid>][?port=N]
// Each comes as an HTTP upgrade (SPDY/3.1, or WebSocket). Once it is authenticated and authorized
// like any node API request, the runtime names its streaming server for the session (CRI Exec,
// Attach, PortForward) and the connection is handed to it byte for byte: the stream protocol is
// the client's and the runtime's, the agent only relays it.
import { connect as connectTcp } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { StreamRequest } from '../../cri/runtime-manager/pod-runtime.ts';
import { isDnsLabel, isDnsSubdomain } from './object-names.ts';
import type { RequestTarget } from './request-target.ts';
import { relayUpgrade } from '../../util/http-upgrade.ts';

/** The first path segments that name a streaming session. */
export const STREAMING_ROOTS: ReadonlySet<string> = new Set(['exec', 'attach', 'portForward']);

export type StreamTarget = { ok: true; request: StreamRequest; pod: string } | { ok: false; status: number; message: string };

const flag = (q: URLSearchParams, name: string) => q.get(name) === '1' || q.get(name) === 'true';

/** The session a request names, checked against the pods this node runs. PURE. */
export function streamRequestOf(target: RequestTarget, pods: readonly V1Pod[]): StreamTarget {
  const [root = '', namespace = '', podName = '', ...rest] = target.segments;
  const fail = (status: number, message: string): StreamTarget => ({ ok: false, status, message });
  const withContainer = root !== 'portForward';
  // With a container: [uid, container] or [container]; port-forward: [uid] or nothing.
  if (rest.length > (withContainer ? 2 : 1) || (withContainer && rest.length === 0)) return fail(404, `404 page not found`);
  const uid = withContainer ? (rest.length === 2 ? rest[0] : undefined) : rest[0];
  const container = withContainer ? rest[rest.length - 1]! : undefined;
  if (!isDnsLabel(namespace)) return fail(400, `invalid namespace ${JSON.stringify(namespace)}: not a DNS label`);
  if (!isDnsSubdomain(podName)) return fail(400, `invalid pod name ${JSON.stringify(podName)}: not a DNS subdomain`);
  const pod = pods.find((p) => (p.metadata?.namespace ?? 'default') === namespace && p.metadata?.name === podName && (!uid || p.metadata?.uid === uid));
  if (!pod?.metadata?.uid) return fail(404, `pod "${namespace}/${podName}" does not exist on this node`);
  const ref = `${namespace}/${podName}`;
  const q = target.query;

  if (!withContainer) {
    const ports = q.getAll('port');
    const numbers = ports.map(Number);
    const bad = ports.find((p, i) => !/^\d{1,5}$/.test(p) || numbers[i]! < 1 || numbers[i]! > 65535);
    if (bad !== undefined) return fail(400, `invalid port ${JSON.stringify(bad)}: must be a number from 1 to 65535`);
    return { ok: true, pod: ref, request: { kind: 'portForward', podUid: pod.metadata.uid, ports: numbers } };
  }

  if (!isDnsLabel(container!)) return fail(400, `invalid container name ${JSON.stringify(container)}: not a DNS label`);
  const statuses: V1ContainerStatus[] = [
    ...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? []),
  ];
  const status = statuses.find((s) => s.name === container);
  if (!status) return fail(404, `container "${container}" not found in pod "${ref}"`);
  const containerId = status.state?.running ? status.containerID?.replace(/^[^:]*:\/\//, '') : undefined;
  if (!containerId) return fail(400, `container "${container}" in pod "${ref}" is not running`);
  const tty = flag(q, 'tty');
  const stdin = flag(q, 'input');
  const stdout = flag(q, 'output');
  // A TTY merges stderr into stdout: the runtime refuses both at once.
  const stderr = flag(q, 'error') && !tty;
  if (!stdin && !stdout && !stderr) return fail(400, 'you must specify at least 1 of stdin, stdout, stderr');
  if (root === 'attach') return { ok: true, pod: ref, request: { kind: 'attach', containerId, tty, stdin, stdout, stderr } };
  const cmd = q.getAll('command');
  if (cmd.length === 0) return fail(400, 'you must specify at least one command for the container');
  return { ok: true, pod: ref, request: { kind: 'exec', containerId, cmd, tty, stdin, stdout, stderr } };
}

/** Hands the client's upgrade request to the runtime's streaming server and relays both ways until either side closes. */
export function relayToRuntime(req: IncomingMessage, client: Duplex, head: Buffer, url: string, logger: Logger): void {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const port = Number(target.port || (secure ? 443 : 80));
  // The runtime's streaming server sits on this machine; its certificate, if any, is its own.
  const upstream = secure ? connectTls({ host: target.hostname, port, rejectUnauthorized: false }) : connectTcp({ host: target.hostname, port });
  // The caller's credentials were for the node; the runtime's URL is the session's credential.
  relayUpgrade(req, client, head, upstream, { path: `${target.pathname}${target.search}`, host: target.host, drop: /^authorization$/i }, (err) => {
    if (err) logger.debug({ err: err.message, url: target.pathname }, 'stream relay ended with an error');
  });
}
