// The node's own API (kubelet port 10250, plain HTTP here): /healthz, /pods (the pods this
// agent runs, as a PodList), and /containerLogs/<ns>/<pod>/<container>, the endpoint the API
// server's node proxy reaches for `kubectl logs`.
import { createServer } from 'node:http';
import type { V1Pod } from '@kubernetes/client-node';
import { readContainerLog, tail } from './cri-log.ts';
import { listen, type RunningServer } from './healthz-server.ts';

export interface NodeApiDeps {
  pods: () => V1Pod[];
  podLogsDir: string;
  healthy: () => boolean;
}

export function startNodeApiServer(port: number, host: string, deps: NodeApiDeps): Promise<RunningServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://node');
    const send = (code: number, body: string, type = 'text/plain') => res.writeHead(code, { 'content-type': type }).end(body);
    if (req.method !== 'GET') return send(405, 'method not allowed\n');
    if (url.pathname === '/healthz') return deps.healthy() ? send(200, 'ok') : send(500, 'not healthy');
    if (url.pathname === '/pods' || url.pathname === '/pods/') {
      return send(200, JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: deps.pods() }), 'application/json');
    }
    const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (logs) {
      const [namespace, name, container] = logs.slice(1).map(decodeURIComponent);
      const pod = deps.pods().find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
      if (!pod) return send(404, `pod ${namespace}/${name} not found on this node\n`);
      const tailLines = url.searchParams.has('tailLines') ? Number(url.searchParams.get('tailLines')) : undefined;
      const previous = url.searchParams.get('previous') === 'true';
      readContainerLog(deps.podLogsDir, namespace, name, pod.metadata!.uid!, container, previous).then((text) => {
        if (text === undefined) send(404, `no logs for container "${container}" in pod ${namespace}/${name}\n`);
        else send(200, tail(text, tailLines));
      }, (err) => send(500, `${String(err)}\n`));
      return;
    }
    send(404, 'not found\n');
  });
  return listen(server, port, host);
}
