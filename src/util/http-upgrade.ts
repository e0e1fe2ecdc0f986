// Relaying an HTTP upgrade (SPDY/3.1 or WebSocket): the request head is written anew to the next
// hop, then bytes flow both ways untouched until either side closes. Both hops of a kubectl exec
// use it: the dev control plane to the node, and the node to the runtime's streaming server.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface UpgradeHop {
  /** Request target at the next hop: path and query. */
  path: string;
  /** Host header for the next hop. */
  host: string;
  /** Request headers that must not travel on (credentials meant for this hop). */
  drop: RegExp;
}

/** Writes the request to `upstream` and pipes the two connections together. */
export function relayUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, upstream: Duplex, hop: UpgradeHop, onEnd: (err?: Error) => void): void {
  const lines = [`${req.method ?? 'GET'} ${hop.path} HTTP/1.1`, `Host: ${hop.host}`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (/^host$/i.test(name) || hop.drop.test(name)) continue;
    lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
  }
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length) upstream.write(head);
  let ended = false;
  const end = (err?: unknown) => {
    if (ended) return;
    ended = true;
    client.destroy();
    upstream.destroy();
    onEnd(err instanceof Error ? err : undefined);
  };
  upstream.on('error', end);
  client.on('error', end);
  upstream.on('close', () => end());
  client.on('close', () => end());
  client.pipe(upstream);
  upstream.pipe(client);
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** Answers an upgrade request that will not be upgraded, and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
