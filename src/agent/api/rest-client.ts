// The agent's REST calls: JSON in, JSON out, over the connection api-connection.ts prepares.
// What the generated client-node API did for the calls the agent makes, without loading it: the
// same methods, paths, query parameters and content types; a non-2xx answer is a KubeApiError
// carrying the status (`code`) and the response text (`body`).
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { apiConnection, type Query } from './api-connection.ts';
import { KubeApiError } from './kube-api-error.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The patch content types the API server accepts (client-node's PatchStrategy). */
export const mergePatchType = 'application/merge-patch+json';
export const strategicMergePatchType = 'application/strategic-merge-patch+json';

export interface RestRequest {
  method: Method;
  /** Path with its segments already encoded, e.g. /api/v1/namespaces/ns/pods/name. */
  path: string;
  query?: Query;
  body?: unknown;
  /** Of the body: application/json unless a patch says which kind it is. */
  contentType?: string;
}

export interface RestClient {
  /** Sends one request and resolves with the parsed JSON answer; the one path every call takes. */
  send<T>(req: RestRequest): Promise<T>;
  /** Opens a streaming GET (a watch); resolves once the response headers are in. */
  open(path: string, query: Query): Promise<{ response: http.IncomingMessage; request: http.ClientRequest }>;
}

const accept = 'application/json, */*;q=0.8';

function describe(method: string, path: string): string {
  return `${method} ${path}`;
}

export function createRestClient(kubeConfig: KubeConfig): RestClient {
  const prepare = apiConnection(kubeConfig);

  const start = async (method: Method, path: string, query: Query | undefined, headers: Record<string, string>, body?: string) => {
    const { url, options } = await prepare(path, query);
    const request = (url.protocol === 'http:' ? http.request : https.request)(url, {
      ...options,
      method,
      headers: { ...(options.headers as Record<string, string> | undefined), ...headers, ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) },
    });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      request.once('response', resolve);
      request.on('error', reject); // stays: a socket error after the answer must not go unheard
    });
    request.end(body);
    return { request, response: await response };
  };

  return {
    async send<T>(req: RestRequest): Promise<T> {
      const body = req.body === undefined ? undefined : JSON.stringify(req.body);
      const headers: Record<string, string> = { Accept: accept };
      if (body !== undefined) headers['Content-Type'] = req.contentType ?? 'application/json';
      const { response } = await start(req.method, req.path, req.query, headers, body);
      response.setEncoding('utf8');
      let text = '';
      for await (const chunk of response) text += chunk as string;
      const code = response.statusCode ?? 0;
      if (code < 200 || code > 299) throw new KubeApiError(code, text, describe(req.method, req.path));
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async open(path, query) {
      return start('GET', path, query, { Accept: accept });
    },
  };
}
