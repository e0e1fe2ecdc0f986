// The fuzzer's own HTTP client for the API server: raw JSON, so a spec's unknown fields reach
// the server as written (client-node's serializer would drop them on the way).
import { Agent, request } from 'node:https';

export interface ApiCredentials { url: string; caPem: string; certPem: string; keyPem: string }
export interface ApiResponse { status: number; body: any; text: string }

export class FuzzApiClient {
  private readonly agent: Agent;
  private readonly base: URL;
  constructor(creds: ApiCredentials) {
    this.base = new URL(creds.url);
    this.agent = new Agent({ keepAlive: true, maxSockets: 16, ca: creds.caPem, cert: creds.certPem, key: creds.keyPem });
  }

  send(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request({
        host: this.base.hostname, port: this.base.port, path, method, agent: this.agent, timeout: timeoutMs,
        headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async ok(method: string, path: string, body?: unknown): Promise<any> {
    const res = await this.send(method, path, body);
    if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path}: HTTP ${res.status}: ${res.text.slice(0, 500)}`);
    return res.body;
  }

  close(): void {
    this.agent.destroy();
  }
}
