// Reaching a node's kubelet as kube-apiserver does: HTTPS with the server's own client
// certificate (CN=kube-apiserver-kubelet-client), without verifying the kubelet's serving
// certificate (kube-apiserver's default without --kubelet-certificate-authority), at the
// node's InternalIP and status.daemonEndpoints port. pods/log streams
// /containerLogs/<ns>/<pod>/<container>; nodes/proxy passes any request through.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request, type RequestOptions } from 'node:https';
import { isIP } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import type { CertificateAndKey } from '../tls/certificates.ts';
import { ApiError, badRequest, internalError, invalid, notFound } from './errors.ts';
import { describeLogOptionProblem, readPodLogOptions } from '../pod/pod-log-options.ts';
import type { KubeObject } from './store.ts';

const forwardedLogParams = ['follow', 'previous', 'tailLines', 'timestamps', 'sinceSeconds', 'sinceTime', 'limitBytes'];
const hopByHop = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host'];

export function containerForLogs(pod: KubeObject, requested: string | null): string {
  const containers: string[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c: any) => c.name);
  if (requested) {
    if (!containers.includes(requested)) {
      throw badRequest(`container ${requested} is not valid for pod ${pod.metadata.name}`);
    }
    return requested;
  }
  const main: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
  if (main.length === 1) return main[0];
  throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${main.join(' ')}]`);
}

export function kubeletAddress(node: KubeObject | undefined, nodeName: string): { host: string; port: number } {
  if (!node) throw notFound('nodes', '', nodeName);
  const addresses: any[] = node.status?.addresses ?? [];
  const host = (addresses.find((a) => a.type === 'InternalIP') ?? addresses.find((a) => a.type === 'Hostname') ?? addresses[0])?.address;
  if (!host) throw badRequest(`node ${nodeName} has no address to reach its kubelet`);
  return { host, port: Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250) };
}

/** What kube-apiserver answers when a kubelet refuses a pods/log request (its generic response checker). */
function kubeletRefusal(code: number, body: string, podName: string): ApiError {
  if (code === 500) return internalError(body);
  if (code === 400) return badRequest(body);
  const generic: Record<number, [string, string]> = {
    401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
    403: ['Forbidden', body],
    404: ['NotFound', 'the server could not find the requested resource'],
    405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
    409: ['Conflict', 'the server reported a conflict'],
    422: ['Invalid', 'the server rejected our request due to an error in our request'],
    429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
    503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
    504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
  };
  const [reason, text] = generic[code]
    ?? (code >= 500 ? ['InternalError', `an error on the server (${JSON.stringify(body)}) has prevented the request from succeeding`]
      : ['Unknown', `the server responded with the status code ${code} but did not return more information`]);
  return new ApiError(code, reason, `${text} ( pods/log ${podName})`, { name: podName, kind: 'pods/log' });
}

export class KubeletClient {
  constructor(private readonly credentials: CertificateAndKey) {}

  private options(host: string, port: number, method: string, path: string, headers: Record<string, string | string[]> = {}): RequestOptions {
    return {
      host, port, method, path, headers, timeout: 30_000,
      cert: this.credentials.certPem, key: this.credentials.keyPem,
      rejectUnauthorized: false, agent: false,
    };
  }

  /** A TLS connection to a kubelet, as this server's client (pod streams are relayed over it). */
  dial(host: string, port: number): TLSSocket {
    return connectTls({ host, port, cert: this.credentials.certPem, key: this.credentials.keyPem, rejectUnauthorized: false, servername: isIP(host) ? undefined : host });
  }

  /** A GET on a node's API as this server's client, the whole answer read (metrics scrapes). */
  get(node: KubeObject | undefined, nodeName: string, path: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
    const { host, port } = kubeletAddress(node, nodeName);
    return new Promise((resolve, reject) => {
      const upstream = request({ ...this.options(host, port, 'GET', path), timeout: timeoutMs }, (answer) => {
        let body = '';
        answer.setEncoding('utf8');
        answer.on('data', (d) => (body += d));
        answer.on('end', () => resolve({ status: answer.statusCode ?? 502, body }));
        answer.on('error', reject);
      });
      upstream.on('timeout', () => upstream.destroy(new Error(`timed out after ${timeoutMs} ms waiting for the kubelet`)));
      upstream.on('error', (err) => reject(new Error(`Get "https://${hostPort(host, port)}${path}": ${err.message}`)));
      upstream.end();
    });
  }

  /** pods/log: stream a container's log from the pod's node. */
  podLogs(res: ServerResponse, pod: KubeObject, node: KubeObject | undefined, query: URLSearchParams): Promise<void> {
    // As kube-apiserver: a query that does not parse is a 400, options that break the rules a 422.
    const { problems } = readPodLogOptions(query);
    const unparsable = problems.find((p) => p.unparsable);
    if (unparsable) throw badRequest(describeLogOptionProblem(unparsable));
    if (problems.length) {
      throw invalid('PodLogOptions', '', pod.metadata.name, problems.map((p) => ({ type: p.type, field: p.field, detail: p.detail, ...(p.value !== undefined ? { value: p.value } : {}) })));
    }
    const nodeName: string | undefined = pod.spec?.nodeName;
    if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
    const container = containerForLogs(pod, query.get('container'));
    const { host, port } = kubeletAddress(node, nodeName);
    const params = new URLSearchParams();
    for (const p of forwardedLogParams) if (query.has(p)) params.set(p, query.get(p)!);
    const path = `/containerLogs/${[pod.metadata.namespace, pod.metadata.name, container].map(encodeURIComponent).join('/')}${params.size ? `?${params}` : ''}`;
    return new Promise((resolve, reject) => {
      const upstream = request(this.options(host, port, 'GET', path), (answer) => {
        const code = answer.statusCode ?? 502;
        if (code < 200 || code > 206) {
          let text = '';
          answer.setEncoding('utf8');
          answer.on('data', (d) => (text += d));
          answer.on('end', () => reject(kubeletRefusal(code, text, pod.metadata.name)));
          return;
        }
        // A followed log may be quiet for long: the 30 s timeout was for reaching the node, not
        // for the stream. Headers go at once, and each chunk as it comes (pipe does not buffer).
        upstream.setTimeout(0);
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
        res.flushHeaders();
        answer.pipe(res);
        answer.on('end', () => resolve());
        answer.on('error', () => resolve());
        // The node went away mid-stream: end the answer rather than leave the client waiting.
        answer.on('close', () => {
          if (!res.writableEnded) res.end();
          resolve();
        });
      });
      // The client went away (e.g. `kubectl logs -f` stopped): stop reading from the node too.
      res.on('close', () => upstream.destroy());
      upstream.on('timeout', () => upstream.destroy(new Error('timed out waiting for the kubelet')));
      upstream.on('error', (err) => {
        if (res.headersSent) return resolve();
        reject(new ApiError(500, 'InternalError', `Get "https://${hostPort(host, port)}${path}": ${err.message}`));
      });
      upstream.end();
    });
  }

  /** nodes/<name>/proxy/<path>: the request goes to the kubelet as it came; its answer comes back as it is. */
  proxy(req: IncomingMessage, res: ServerResponse, node: KubeObject | undefined, nodeName: string, path: string, query: URLSearchParams): Promise<void> {
    const { host, port } = kubeletAddress(node, nodeName);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      // The user's own credentials stay here: the kubelet sees only the server's certificate.
      if (v !== undefined && !hopByHop.includes(k) && k !== 'authorization') headers[k] = v;
    }
    const target = `${path}${query.size ? `?${query}` : ''}`;
    return new Promise((resolve, reject) => {
      const upstream = request(this.options(host, port, req.method ?? 'GET', target, headers), (answer) => {
        const answerHeaders: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !hopByHop.includes(k)) answerHeaders[k] = v;
        res.writeHead(answer.statusCode ?? 502, answerHeaders);
        answer.pipe(res);
        answer.on('end', () => resolve());
        answer.on('error', () => resolve());
      });
      res.on('close', () => upstream.destroy());
      upstream.on('timeout', () => upstream.destroy(new Error('timed out waiting for the kubelet')));
      upstream.on('error', (err) => {
        if (res.headersSent) return resolve();
        reject(new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${err.message}`));
      });
      req.pipe(upstream);
    });
  }
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
