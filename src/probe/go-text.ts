// How Go spells what the kubelet prints: host:port, %q, time.Duration and net dial errors.
// Events and messages should read as a real kubelet's, so the texts follow Go's.
import { isIP } from 'node:net';

/** net.JoinHostPort: an IPv6 host goes in brackets. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** %q for the plain strings the kubelet quotes (JSON's escapes agree with Go's for these). */
export function goQuote(text: string): string {
  return JSON.stringify(text);
}

/** time.Duration's String(): 300ms, 1s, 1.5s, 1m30s, 1h0m0s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${trimNumber(ms)}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = trimNumber((ms % 60_000) / 1000);
  if (hours) return `${hours}h${minutes}m${seconds}s`;
  if (minutes) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

function trimNumber(n: number): string {
  return String(Number(n.toFixed(9)));
}

/** Go's texts for the errnos a dial meets (syscall.Errno strings). */
export const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ETIMEDOUT: 'connection timed out',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EPIPE: 'broken pipe',
};

export interface NodeNetError extends Error {
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
  hostname?: string;
}

/** A failed dial as Go's net.Dial reports it, or undefined when `err` is not a dial error. */
export function dialErrorText(err: NodeNetError, host: string, port: number): string | undefined {
  if (err.code === 'ENOTFOUND' || err.syscall === 'getaddrinfo') {
    return `dial tcp: lookup ${err.hostname ?? host}: ${err.code === 'ENOTFOUND' ? 'no such host' : (err.code ?? err.message)}`;
  }
  if (err.syscall !== 'connect' || !err.code) return undefined;
  // Go names the address it dialed, which is the resolved one for a name.
  const address = err.address && isIP(err.address) ? joinHostPort(err.address, err.port ?? port) : joinHostPort(host, port);
  return `dial tcp ${address}: connect: ${ERRNO_TEXT[err.code] ?? err.message}`;
}

/** A dial that ran out of time (net.DialTimeout's text). */
export function dialTimeoutText(host: string, port: number): string {
  return `dial tcp ${joinHostPort(host, port)}: i/o timeout`;
}
