// The embedded dev control plane: an in-memory API server that kubectl and client-node talk
// to as to kube-apiserver: HTTPS only, every request authenticated (client certificates from
// its cluster CA, service-account tokens it issued, else anonymous) and authorized. Start it
// in-process with startApiServer, or with `mini-kubelet apiserver`.
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { DevBinder } from './binder.ts';
import { KubeConfig } from '@kubernetes/client-node';
import type { CertificateAndKey, CertificateAuthority } from '../tls/certificates.ts';
import { RequestAuthenticator } from './auth/authenticator.ts';
import { createAuthorizer, ensureBootstrapPolicy } from './auth/authorizer-chain.ts';
import { ServiceAccountTokens } from './auth/service-account-tokens.ts';
import { adminUser, createClusterPki } from './cluster-pki.ts';
import { createRequestListener, type ObservedRequest } from './http-server.ts';
import { createUpgradeListener } from './pod-streams.ts';
import type { FieldValidation } from './unknown-fields.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import { KubeletClient } from './node-proxy.ts';
import { findResourceTypeByKind, resourceTypes } from './registry.ts';
import { bootstrapKubeconfigYaml, createBootstrapToken, type BootstrapToken } from './bootstrap-token-issuer.ts';
import { CsrApprover } from './certificates/csr-approver.ts';
import { BootstrapTokenCleaner } from './bootstrap-token-cleaner.ts';
import { CsrSigner } from './certificates/csr-signer.ts';
import { ApiError } from './errors.ts';
import type { KubeObject } from './store.ts';
import { MetricsApi } from './metrics-api.ts';
import { ResourceHandlers } from './resource-handlers.ts';
import { ResourceService } from './resources.ts';
import { kubernetesService } from './service-objects.ts';
import { Reviews } from './reviews.ts';
import { RootCaPublisher } from './root-ca-publisher.ts';
import { ObjectStore } from './store.ts';
import { TokenRequests } from './token-requests.ts';
import { PersistentVolumeBinder } from './volume-binder.ts';
import { WatchHub } from './watch.ts';

export interface ApiServerOptions {
  port: number;
  bind?: string;
  /** Bind unscheduled pods to Ready nodes (default true). */
  binder?: boolean;
  /** The cluster CA to issue from (default: a new one, CN=kubernetes), so a caller can keep it across restarts. */
  certificateAuthority?: CertificateAuthority;
  /** Where to write the admin kubeconfig (CN=kubernetes-admin, O=system:masters). */
  kubeconfigOut?: string;
  logger?: Logger;
  /** How many changes watches can resume from; older versions get 410 Gone (default 1000). */
  historySize?: number;
  /** How often watches that allow bookmarks get one (default 10 s; client-node gives up after 30 s of silence). */
  bookmarkIntervalMs?: number;
  /** The shortest service-account token lifetime a TokenRequest may ask (default 600 s, as kube; tests lower it). */
  minTokenExpirationSeconds?: number;
  /** fieldValidation for writes that name none (kube-apiserver: Warn). Tests set Strict, so that a
   * field the agent sends and the API does not have fails them instead of a user's cluster. */
  defaultFieldValidation?: FieldValidation;
  /** Lifetime of the certificates the CSR signer issues (kube-controller-manager --cluster-signing-duration, default 1 year). */
  clusterSigningDurationMs?: number;
  /** Told of every authenticated request as it arrives. */
  onRequest?: (r: ObservedRequest) => void;
}

export interface RunningApiServer {
  url: string;
  /** The cluster CA: what clients trust the server by, and kubelets' --client-ca-file. */
  caCertPem: string;
  kubeconfigPath?: string;
  /** The admin kubeconfig. */
  kubeconfigYaml: string;
  /** The admin kubeconfig, loaded. */
  kubeConfig(): KubeConfig;
  /** A kubeconfig for a node's kubelet: CN=system:node:<nodeName>, O=system:nodes. */
  nodeKubeconfig(nodeName: string): Promise<string>;
  /** A client certificate from the cluster CA for any user and groups (CN = user, O = groups). */
  issueClientCertificate(user: string, groups: string[]): Promise<CertificateAndKey>;
  /** A new bootstrap token (kube-system Secret, valid for ttlMs) and the bootstrap kubeconfig that carries it. */
  bootstrapKubeconfig(ttlMs: number): { token: BootstrapToken; kubeconfigYaml: string };
  /** Creates the objects (as the admin would), skipping those that exist; returns "Kind/name" of those created. */
  createObjects(objects: KubeObject[]): string[];
  stop(): Promise<void>;
}

export const initialNamespaces = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const log = (opts.logger ?? pino({ level: 'info' })).child({ component: 'apiserver' });
  const store = new ObjectStore(opts.historySize ?? 1000);
  const resources = new ResourceService(store);
  const namespaceType = resourceTypes.find((t) => t.plural === 'namespaces')!;
  for (const name of initialNamespaces) resources.create(namespaceType, '', { metadata: { name } });

  ensureBootstrapPolicy(resources);

  const bind = opts.bind ?? '127.0.0.1';
  const pki = await createClusterPki(bind, opts.certificateAuthority);
  const tokens = await ServiceAccountTokens.create(store);
  const authorizer = createAuthorizer(store);
  const watches = new WatchHub(store, opts.bookmarkIntervalMs ?? 10_000);
  const authenticator = new RequestAuthenticator(tokens, store, log.child({ component: 'authentication' }));
  const kubelets = new KubeletClient(pki.kubeletClient);
  const listener = createRequestListener({
    authenticator,
    authorizer,
    resources,
    handlers: new ResourceHandlers(resources, watches, opts.defaultFieldValidation),
    reviews: new Reviews(tokens, authorizer, authenticator),
    tokenRequests: new TokenRequests(resources, tokens, opts.minTokenExpirationSeconds),
    kubelets,
    metrics: new MetricsApi(store, kubelets, log.child({ component: 'metrics-api' })),
    ...(opts.onRequest ? { onRequest: opts.onRequest } : {}),
  }, log);
  // Client certificates are asked for, not required: they are checked per request, so that a
  // bad one is a 401 Status and no certificate at all is anonymous, as kube-apiserver does.
  const server = createHttpsServer({
    cert: pki.serving.certPem, key: pki.serving.keyPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false,
  }, listener);
  // kube-apiserver keeps an idle connection 90 s (IdleTimeout) and waits 32 s for headers. Node's
  // default of 5 s closes sockets that clients keep for reuse, and a request sent just then
  // fails with ECONNRESET.
  server.keepAliveTimeout = 90_000;
  server.headersTimeout = 32_000;
  // kubectl exec, attach and port-forward arrive as upgrades.
  server.on('upgrade', createUpgradeListener({ authenticator, authorizer, resources, kubelets }, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  // As kube-apiserver does: the `kubernetes` Service in default, its target the server's own port.
  resources.create(resourceTypes.find((t) => t.plural === 'services' && !t.group)!, 'default', kubernetesService(port));
  const host = bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kubeconfig = kubeconfigYaml(url, pki.ca.certPem, adminUser.name, pki.admin);
  if (opts.kubeconfigOut) {
    await mkdir(dirname(opts.kubeconfigOut), { recursive: true });
    await writeFile(opts.kubeconfigOut, kubeconfig, { mode: 0o600 });
  }
  const binder = opts.binder === false ? undefined : new DevBinder(resources, log);
  // The controllers kube-controller-manager would run for what this server serves.
  const controllers = [
    new PersistentVolumeBinder(resources, log), new RootCaPublisher(resources, pki.ca.certPem, log),
    new CsrApprover(resources, authorizer, log.child({ component: 'csr-approver' })),
    new BootstrapTokenCleaner(resources, log.child({ component: 'tokencleaner' })),
    new CsrSigner(resources, pki.ca, opts.clusterSigningDurationMs ?? 365 * 24 * 3600_000, log.child({ component: 'csr-signer' })),
  ];
  log.info({ url, kubeconfig: opts.kubeconfigOut, binder: !!binder }, 'dev API server listening');

  let stopped: Promise<void> | undefined;
  return {
    url,
    caCertPem: pki.ca.certPem,
    kubeconfigPath: opts.kubeconfigOut,
    kubeconfigYaml: kubeconfig,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromString(kubeconfig);
      return kc;
    },
    async nodeKubeconfig(nodeName) {
      const user = `system:node:${nodeName}`;
      return kubeconfigYaml(url, pki.ca.certPem, user, await pki.clientCertificate(user, ['system:nodes']));
    },
    issueClientCertificate: (user, groups) => pki.clientCertificate(user, groups),
    bootstrapKubeconfig(ttlMs) {
      const token = createBootstrapToken(resources, ttlMs);
      return { token, kubeconfigYaml: bootstrapKubeconfigYaml(url, pki.ca.certPem, token.token) };
    },
    createObjects(objects) {
      const created: string[] = [];
      for (const obj of objects) {
        const type = findResourceTypeByKind(String(obj.apiVersion ?? ''), String(obj.kind ?? ''));
        if (!type) throw new Error(`the dev API server does not serve ${String(obj.apiVersion)} ${String(obj.kind)}`);
        try {
          resources.create(type, obj.metadata?.namespace ?? 'default', obj);
          created.push(`${type.kind}/${obj.metadata?.name}`);
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 409)) throw err;
        }
      }
      return created;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        binder?.stop();
        for (const c of controllers) c.stop();
        watches.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
