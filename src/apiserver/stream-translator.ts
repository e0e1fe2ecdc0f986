// kubectl 1.32's WebSocket streams, carried to a node that speaks SPDY, as kube-apiserver does:
//   exec / attach: kubectl speaks the channel protocol (v5.channel.k8s.io, or v4): each message is
//     one channel byte (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize; 255 closes a channel in v5)
//     and its payload. Toward the node each channel is an SPDY stream of the v4 remote-command
//     protocol (streamType error, stdin, stdout, stderr, resize).
//   port-forward: kubectl tunnels SPDY itself inside WebSocket binary messages
//     (SPDY/3.1+portforward.k8s.io); the bytes go to the node's SPDY upgrade as they are.
import type { TLSSocket } from 'node:tls';
import type { WebSocket } from 'ws';
import { ApiError } from './errors.ts';
import { SpdyClientSession } from './spdy-session.ts';

export const EXEC_WEBSOCKET_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** How long the node may take to answer the SPDY upgrade (kube-apiserver's dial-and-upgrade bound). */
const HANDSHAKE_TIMEOUT_MS = 30_000;

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

export interface NodeSpdyConnection {
  socket: TLSSocket;
  /** Bytes that came after the 101 response head: the start of the SPDY session. */
  rest: Buffer;
}

/** Sends the SPDY upgrade to the node and waits for its 101; a refusal becomes the node's status and message. */
export function upgradeToNode(socket: TLSSocket, hostHeader: string, path: string, streamProtocol: string): Promise<NodeSpdyConnection> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err instanceof ApiError ? err : new ApiError(503, 'ServiceUnavailable', `error dialing backend: ${err.message}`));
    };
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 64 * 1024) fail(new Error('the node sent an oversized response head'));
        return;
      }
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (status === 101) {
        socket.off('data', onData);
        socket.off('error', fail);
        socket.setTimeout(0); // an open session may be quiet for as long as its user likes
        resolve({ socket, rest: head.subarray(end + 4) });
        return;
      }
      // A refusal: wait for its body (the node closes the connection after it).
      socket.off('data', onData);
      let body = head.subarray(end + 4).toString();
      socket.on('data', (more: Buffer) => (body += more.toString()));
      socket.once('close', () => fail(new ApiError(status >= 400 && status < 600 ? status : 502, refusalReason(status), body.trim() || `the node answered ${status}`)));
    };
    socket.on('data', onData);
    socket.on('error', fail);
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => fail(new Error(`the node did not answer the upgrade within ${HANDSHAKE_TIMEOUT_MS / 1000}s`)));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${streamProtocol}\r\nContent-Length: 0\r\n\r\n`);
  });
}

function refusalReason(status: number): string {
  return ({ 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound' } as Record<number, string>)[status] ?? 'InternalError';
}

export interface ExecStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Carries one exec or attach session between kubectl's WebSocket and the node's SPDY connection. */
export function translateExecSession(ws: WebSocket, node: NodeSpdyConnection, streams: ExecStreams): void {
  const open = new Set<number>();
  let closing = false;
  const closeWebSocket = () => {
    if (closing) return;
    closing = true;
    ws.close(1000);
  };
  const session = new SpdyClientSession(node.socket, closeWebSocket);
  const toClient = (channel: number) => ({
    data: (chunk: Buffer) => {
      if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), chunk]));
    },
    end: () => {
      open.delete(channel);
      // The session is over once the error stream (the exit status) and the outputs have ended.
      if (open.size === 0) closeWebSocket();
    },
  });
  const nothing = { data: () => {}, end: () => {} };
  // The v4 remote-command protocol's order: error first, then the streams asked for.
  open.add(ERROR);
  session.open({ streamType: 'error' }, toClient(ERROR));
  const stdinId = streams.stdin ? session.open({ streamType: 'stdin' }, nothing) : undefined;
  if (streams.stdout) {
    open.add(STDOUT);
    session.open({ streamType: 'stdout' }, toClient(STDOUT));
  }
  if (streams.stderr && !streams.tty) {
    open.add(STDERR);
    session.open({ streamType: 'stderr' }, toClient(STDERR));
  }
  const resizeId = streams.tty ? session.open({ streamType: 'resize' }, nothing) : undefined;
  if (node.rest.length) session.receive(node.rest);

  ws.on('message', (message: Buffer, isBinary: boolean) => {
    if (!isBinary || message.length === 0) return;
    const channel = message[0]!;
    const payload = message.subarray(1);
    if (channel === STDIN && stdinId !== undefined) session.send(stdinId, payload);
    else if (channel === RESIZE && resizeId !== undefined) session.send(resizeId, payload);
    else if (channel === CLOSE && payload[0] === STDIN && stdinId !== undefined) session.send(stdinId, Buffer.alloc(0), true);
  });
  ws.on('close', () => session.close());
  ws.on('error', () => session.close());
}

/** Carries kubectl's tunnelled SPDY port-forward session to the node's SPDY connection, byte for byte. */
export function tunnelPortForward(ws: WebSocket, node: NodeSpdyConnection): void {
  const { socket } = node;
  if (node.rest.length) ws.send(node.rest);
  socket.on('data', (chunk: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(chunk);
  });
  ws.on('message', (message: Buffer) => socket.write(message));
  const end = () => {
    socket.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
  };
  socket.on('close', end);
  socket.on('error', end);
  ws.on('close', end);
  ws.on('error', end);
}
