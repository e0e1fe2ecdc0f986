// JSON over HTTP(S) to the API server, with the kubeconfig's credentials: one call, or a
// watch stream of newline-delimited events.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ApiConnection } from './kubeconfig.ts';

/** A failed API call: the HTTP status and the Status object the server sent. */
export class ApiError extends Error {
  constructor(readonly code: number, readonly body: unknown, method: string, path: string) {
    super(`${method} ${path}: ${code} ${(body as { message?: string })?.message ?? ''}`.trim());
    this.name = 'ApiError';
  }
}

export interface HttpClient {
  call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  /** Opens a stream; each JSON line goes to onLine. Resolves with an aborter once the response started. */
  stream(path: string, onLine: (obj: any) => void, done: (err?: unknown) => void): Promise<() => void>;
}

export function createHttpClient(conn: ApiConnection, timeoutMs = 30_000): HttpClient {
  const url = new URL(conn.server);
  const secure = url.protocol === 'https:';
  const basePath = url.pathname.replace(/\/$/, '');

  function options(method: string, path: string, headers: Record<string, string>): RequestOptions {
    return {
      method,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (secure ? 443 : 80),
      path: basePath + path,
      headers: { accept: 'application/json', 'user-agent': 'mini-kubelet', ...(conn.token ? { authorization: `Bearer ${conn.token}` } : {}), ...headers },
      ...(secure ? { ca: conn.ca, cert: conn.cert, key: conn.key, rejectUnauthorized: !conn.insecureSkipTLSVerify } : {}),
    };
  }
  const send = secure ? httpsRequest : httpRequest;

  return {
    call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      return new Promise<T>((resolve, reject) => {
        const req = send(options(method, path, payload ? { 'content-type': contentType, 'content-length': String(payload.length) } : {}), (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // Not JSON (a proxy's error page): keep the text.
            }
            if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(parsed as T);
            else reject(new ApiError(res.statusCode ?? 0, parsed, method, path));
          });
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: timed out after ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(payload);
      });
    },

    stream(path, onLine, done) {
      return new Promise((resolve, reject) => {
        let finished = false;
        const finish = (err?: unknown) => {
          if (finished) return;
          finished = true;
          done(err);
        };
        const req = send(options('GET', path, {}), (res: IncomingMessage) => {
          if ((res.statusCode ?? 0) >= 300) {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => {
              let body: unknown = text;
              try { body = JSON.parse(text); } catch { /* keep text */ }
              reject(new ApiError(res.statusCode ?? 0, body, 'GET', path));
            });
            return;
          }
          let buffered = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
              if (!line) continue;
              try {
                onLine(JSON.parse(line));
              } catch (err) {
                req.destroy();
                finish(err);
                return;
              }
            }
          });
          res.on('end', () => finish());
          res.on('error', (err) => finish(err));
          res.on('close', () => finish());
          resolve(() => {
            finished = true;
            req.destroy();
          });
        });
        req.on('error', (err) => {
          reject(err);
          finish(err);
        });
        req.end();
      });
    },
  };
}
