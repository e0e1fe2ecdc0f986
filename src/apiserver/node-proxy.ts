// pods/log: the API server reaches the pod's node (InternalIP, kubelet port from
// status.daemonEndpoints) at /containerLogs/<ns>/<pod>/<container> and streams the answer
// back, as kube-apiserver's node proxy does for `kubectl logs`. Nodes serve plain HTTP here.
import { request } from 'node:http';
import type { ServerResponse } from 'node:http';
import { ApiError, badRequest, notFound } from './errors.ts';
import type { KubeObject } from './store.ts';

const forwardedLogParams = ['follow', 'previous', 'tailLines', 'timestamps', 'sinceSeconds', 'sinceTime', 'limitBytes'];

export function containerForLogs(pod: KubeObject, requested: string | null): string {
  const containers: string[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c: any) => c.name);
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

export function proxyPodLogs(res: ServerResponse, pod: KubeObject, node: KubeObject | undefined, query: URLSearchParams): Promise<void> {
  const nodeName: string | undefined = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  const container = containerForLogs(pod, query.get('container'));
  const { host, port } = kubeletAddress(node, nodeName);
  const params = new URLSearchParams();
  for (const p of forwardedLogParams) if (query.has(p)) params.set(p, query.get(p)!);
  const path = `/containerLogs/${[pod.metadata.namespace, pod.metadata.name, container].map(encodeURIComponent).join('/')}${params.size ? `?${params}` : ''}`;
  return new Promise((resolve, reject) => {
    const upstream = request({ host, port, path, method: 'GET', timeout: 30_000 }, (answer) => {
      const code = answer.statusCode ?? 502;
      if (code !== 200) {
        let text = '';
        answer.setEncoding('utf8');
        answer.on('data', (d) => (text += d));
        answer.on('end', () => reject(new ApiError(code === 404 ? 404 : 500, code === 404 ? 'NotFound' : 'InternalError', text.trim() || `kubelet answered ${code}`)));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
      answer.pipe(res);
      answer.on('end', () => resolve());
      answer.on('error', () => resolve());
    });
    // The client went away (e.g. `kubectl logs -f` stopped): stop reading from the node too.
    res.on('close', () => upstream.destroy());
    upstream.on('timeout', () => upstream.destroy(new Error('timed out waiting for the kubelet')));
    upstream.on('error', (err) => {
      if (res.headersSent) return resolve();
      reject(new ApiError(500, 'InternalError', `Get "http://${host}:${port}${path}": ${err.message}`));
    });
    upstream.end();
  });
}
