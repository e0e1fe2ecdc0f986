// One GET over node:http or node:https, bounded by a deadline, as Go's http.Client sends it
// for the kubelet: no keep-alive, no proxy, certificates not verified. Failures come back as
// Go's texts, because they end up in the pod's events.
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { MAX_OUTPUT_BYTES } from './probe-outcome.ts';
import { dialErrorText, ERRNO_TEXT, joinHostPort, type NodeNetError } from './go-text.ts';

export interface OneGet {
  scheme: 'http' | 'https';
  /** the host to connect to, IPv6 without brackets */
  host: string;
  port: number;
  /** the request target: escaped path and query */
  path: string;
  hostHeader: string;
  headers: Record<string, string[]>;
}

export type GetResult =
  | { kind: 'response'; statusCode: number; location?: string; body: Buffer }
  /** `text` is what Go's client.Do would report; with a statusCode it came while reading the body. */
  | { kind: 'error'; text: string; statusCode?: number };

export const HEADERS_TIMEOUT_TEXT = 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';
export const BODY_TIMEOUT_TEXT = 'context deadline exceeded (Client.Timeout or context cancellation while reading body)';

/**
 * Sends the GET and, when `keepBody(status, location)` says so, reads up to 10 KiB of the body
 * (the rest is cut off, not an error). A response whose body is not kept comes back empty.
 */
export function getOnce(get: OneGet, deadline: number, keepBody: (statusCode: number, location: string | undefined) => boolean): Promise<GetResult> {
  return new Promise((resolve) => {
    let settled = false;
    let statusCode: number | undefined;
    let request: http.ClientRequest | undefined;
    let socketAddresses: string | undefined;
    const finish = (result: GetResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(statusCode === undefined
      ? { kind: 'error', text: HEADERS_TIMEOUT_TEXT }
      : { kind: 'error', text: BODY_TIMEOUT_TEXT, statusCode }), Math.max(0, deadline - Date.now()));

    const options: https.RequestOptions = {
      method: 'GET',
      hostname: get.host,
      port: get.port,
      path: get.path,
      headers: { ...get.headers, Host: get.hostHeader },
      agent: false,
    };
    // The kubelet skips verification; SNI names the URL's host, and never an IP (RFC 6066).
    if (get.scheme === 'https') Object.assign(options, { rejectUnauthorized: false, servername: isIP(get.host) ? '' : get.host });
    try {
      request = (get.scheme === 'https' ? https : http).request(options);
    } catch (err) {
      // Bad header names or values are refused before anything is sent, as Go's transport does.
      finish({ kind: 'error', text: (err as Error).message });
      return;
    }
    request.on('socket', (socket: Socket) => socket.once('connect', () => {
      socketAddresses = `${joinHostPort(socket.localAddress ?? '', socket.localPort ?? 0)}->${joinHostPort(socket.remoteAddress ?? get.host, socket.remotePort ?? get.port)}`;
    }));
    request.on('error', (err: NodeNetError) => finish(statusCode === undefined
      ? { kind: 'error', text: requestErrorText(err, get, socketAddresses) }
      : { kind: 'error', text: 'unexpected EOF', statusCode }));
    request.on('response', (res: http.IncomingMessage) => {
      statusCode = res.statusCode ?? 0;
      const location = res.headers.location;
      if (!keepBody(statusCode, location)) {
        finish({ kind: 'response', statusCode, location, body: Buffer.alloc(0) });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => finish({ kind: 'response', statusCode: statusCode!, location, body: Buffer.concat(chunks).subarray(0, MAX_OUTPUT_BYTES) });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_OUTPUT_BYTES) done();
      });
      res.on('end', done);
      // A body cut short by the server: Go's reader says unexpected EOF.
      res.on('aborted', () => finish({ kind: 'error', text: 'unexpected EOF', statusCode: statusCode! }));
      res.on('error', () => finish({ kind: 'error', text: 'unexpected EOF', statusCode: statusCode! }));
    });
    request.end();
  });
}

function requestErrorText(err: NodeNetError, get: OneGet, socketAddresses: string | undefined): string {
  const dial = dialErrorText(err, get.host, get.port);
  if (dial) return dial;
  // Node's "socket hang up" is a connection closed before any response: Go reads EOF.
  if (err.code === 'ECONNRESET' && err.message === 'socket hang up') return 'EOF';
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
    const op = err.code === 'EPIPE' ? 'write' : 'read';
    return `${op} tcp ${socketAddresses ?? joinHostPort(get.host, get.port)}: ${op}: ${ERRNO_TEXT[err.code]}`;
  }
  // TLS spoken to a plain HTTP server: the kubelet's lifecycle hooks look for exactly this text.
  if (get.scheme === 'https' && /wrong version number|packet length too long|WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG/i.test(`${err.code} ${err.message}`)) {
    return 'http: server gave HTTP response to HTTPS client';
  }
  return err.message;
}
