// TLS bootstrap, as the kubelet joins a cluster: when --kubeconfig does not exist yet (or its
// client certificate has expired), the node files a CSR for CN=system:node:<name>,
// O=system:nodes with the credentials of --bootstrap-kubeconfig (a bootstrap token), waits for
// the certificate, and writes --kubeconfig pointing at <cert-dir>/kubelet-client-current.pem.
// From then on it is a node like any other; the bootstrap token is not used again.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { dirname } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import YAML from 'yaml';
import { loadKubeconfigFile } from '../api/kubeconfig.ts';
import { CertificateManager, kubeletClientSigner } from './certificate-manager.ts';
import { currentPemPath } from './certificate-files.ts';
import { CertificateRequestFailed } from './csr-client.ts';

export interface ClientBootstrapOptions {
  kubeconfig: string;
  bootstrapKubeconfig?: string;
  certDir: string;
  nodeName: string;
  approvalTimeoutMs: number;
  logger: Logger;
}

/** The node's client certificate manager (also the one that renews it). */
export function clientCertificateManager(o: Pick<ClientBootstrapOptions, 'certDir' | 'nodeName' | 'approvalTimeoutMs' | 'logger'>): CertificateManager {
  return new CertificateManager({
    certDir: o.certDir,
    prefix: 'kubelet-client',
    signerName: kubeletClientSigner,
    // An ECDSA key signs; it does not encipher (the kubelet asks the same for its ECDSA keys).
    usages: ['digital signature', 'client auth'],
    subject: () => ({ commonName: `system:node:${o.nodeName}`, organizations: ['system:nodes'] }),
    approvalTimeoutMs: o.approvalTimeoutMs,
    logger: o.logger.child({ certificate: 'client' }),
  });
}

/** Why the kubeconfig cannot be used as it is: '' when it can. */
function kubeconfigProblem(path: string): string {
  if (!existsSync(path)) return `${path} does not exist`;
  const user = loadKubeconfigFile(path).getCurrentUser();
  let certPem: string | undefined;
  if (user?.certData) certPem = Buffer.from(user.certData, 'base64').toString('utf8');
  else if (user?.certFile) {
    if (!existsSync(user.certFile)) return `its client certificate ${user.certFile} does not exist`;
    certPem = readFileSync(user.certFile, 'utf8');
  }
  if (!certPem) return ''; // a token or an exec plugin: nothing of ours to check
  let notAfter: Date;
  try {
    notAfter = new Date(new X509Certificate(certPem).validTo);
  } catch (err) {
    return `its client certificate cannot be read (${(err as Error).message})`;
  }
  return notAfter.getTime() <= Date.now() ? `its client certificate expired at ${notAfter.toISOString()}` : '';
}

/** Makes sure --kubeconfig holds usable credentials, bootstrapping them when it does not and a bootstrap kubeconfig is given. */
export async function ensureClientCredentials(o: ClientBootstrapOptions): Promise<'existing' | 'bootstrapped'> {
  const problem = kubeconfigProblem(o.kubeconfig);
  if (!problem) return 'existing';
  if (!o.bootstrapKubeconfig) return 'existing'; // loading it fails next, with its own error
  o.logger.info({ kubeconfig: o.kubeconfig, why: problem, bootstrapKubeconfig: o.bootstrapKubeconfig }, 'TLS bootstrap: asking for a client certificate');
  const bootstrap = loadKubeconfigFile(o.bootstrapKubeconfig);
  try {
    await clientCertificateManager(o).obtain(bootstrap, { stableName: true });
  } catch (err) {
    if (err instanceof CertificateRequestFailed && err.reason === 'Unauthorized') {
      throw new CertificateRequestFailed('Unauthorized', `TLS bootstrap refused: the API server does not accept the credentials of ${o.bootstrapKubeconfig} (401 Unauthorized); `
        + 'its bootstrap token was deleted, has expired or is wrong. Make a new one (kubeadm token create, or mini-kubelet apiserver --bootstrap-kubeconfig-out) and start again.', { cause: err });
    }
    throw err;
  }
  writeNodeKubeconfig(o.kubeconfig, bootstrap, currentPemPath(o.certDir, 'kubelet-client'));
  o.logger.info({ kubeconfig: o.kubeconfig }, 'TLS bootstrap: client certificate issued; kubeconfig written');
  return 'bootstrapped';
}

/** The kubeconfig the kubelet writes after bootstrap: the bootstrap's cluster, the current certificate file as the user. */
function writeNodeKubeconfig(path: string, bootstrap: KubeConfig, pemPath: string): void {
  const cluster = bootstrap.getCurrentCluster()!;
  const clusterEntry: Record<string, unknown> = { server: cluster.server };
  if (cluster.caData) clusterEntry['certificate-authority-data'] = cluster.caData;
  else if (cluster.caFile) clusterEntry['certificate-authority'] = cluster.caFile;
  if (cluster.skipTLSVerify) clusterEntry['insecure-skip-tls-verify'] = true;
  if (cluster.tlsServerName) clusterEntry['tls-server-name'] = cluster.tlsServerName;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default-cluster', cluster: clusterEntry }],
    users: [{ name: 'default-auth', user: { 'client-certificate': pemPath, 'client-key': pemPath } }],
    contexts: [{ name: 'default-context', context: { cluster: 'default-cluster', namespace: 'default', user: 'default-auth' } }],
    'current-context': 'default-context',
  }), { mode: 0o600 });
}
