// The embedded dev control plane: an in-memory API server that kubectl and client-node talk
// to as to kube-apiserver. Start it in-process with startApiServer, or with
// `mini-kubelet apiserver`.
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { DevBinder } from './binder.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { createRequestListener } from './http-server.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import { resourceTypes } from './registry.ts';
import { ResourceHandlers } from './resource-handlers.ts';
import { ResourceService } from './resources.ts';
import { ObjectStore } from './store.ts';
import { generateSelfSignedCert } from './tls.ts';
import { WatchHub } from './watch.ts';

export interface ApiServerOptions {
  port: number;
  bind?: string;
  /** Bind unscheduled pods to Ready nodes (default true). */
  binder?: boolean;
  tls?: boolean;
  kubeconfigOut?: string;
  logger?: Logger;
  /** How many changes watches can resume from; older versions get 410 Gone (default 1000). */
  historySize?: number;
  /** How often watches that allow bookmarks get one (default 10 s; client-node gives up after 30 s of silence). */
  bookmarkIntervalMs?: number;
}

export interface RunningApiServer {
  url: string;
  kubeconfigPath?: string;
  kubeconfigYaml: string;
  kubeConfig(): KubeConfig;
  stop(): Promise<void>;
}

export const initialNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const log = (opts.logger ?? pino({ level: 'info' })).child({ component: 'apiserver' });
  const store = new ObjectStore(opts.historySize ?? 1000);
  const resources = new ResourceService(store);
  const namespaceType = resourceTypes.find((t) => t.plural === 'namespaces')!;
  for (const name of initialNamespaces) resources.create(namespaceType, '', { metadata: { name } });

  const watches = new WatchHub(store, opts.bookmarkIntervalMs ?? 10_000);
  const listener = createRequestListener(new ResourceHandlers(resources, watches), log);
  const bind = opts.bind ?? '127.0.0.1';
  let caCert: string | undefined;
  let server: Server;
  if (opts.tls) {
    const { cert, key } = await generateSelfSignedCert([bind]);
    caCert = cert;
    server = createHttpsServer({ cert, key }, listener);
  } else {
    server = createHttpServer(listener);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
  const url = `${opts.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kubeconfig = kubeconfigYaml(url, caCert);
  if (opts.kubeconfigOut) {
    await mkdir(dirname(opts.kubeconfigOut), { recursive: true });
    await writeFile(opts.kubeconfigOut, kubeconfig, { mode: 0o600 });
  }
  const binder = opts.binder === false ? undefined : new DevBinder(resources, log);
  log.info({ url, kubeconfig: opts.kubeconfigOut, binder: !!binder, tls: !!opts.tls }, 'dev API server listening');

  let stopped: Promise<void> | undefined;
  return {
    url,
    kubeconfigPath: opts.kubeconfigOut,
    kubeconfigYaml: kubeconfig,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfig);
      return kc;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        binder?.stop();
        watches.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
