// --rotate-server-certificates (the kubelet's serverTLSBootstrap): the node API's certificate
// comes from the cluster by CSR, signer kubernetes.io/kubelet-serving, for
// CN=system:node:<name> in system:nodes and the names clients dial. Nobody approves those
// automatically (kube-controller-manager does not either): a person runs
// `kubectl certificate approve`. Until then the node serves its self-signed certificate.
import type { Logger } from 'pino';
import { reusable } from '../server/auth/serving-certificate.ts';
import { CertificateManager, kubeletServingSigner } from './certificate-manager.ts';
import { currentPemPath, readCurrent, type HeldCertificate } from './certificate-files.ts';

export interface ServingRotationOptions {
  certDir: string;
  nodeName: string;
  /** DNS names and IPs besides the node name. */
  hosts: string[];
  approvalTimeoutMs: number;
  logger: Logger;
  onRenewed(held: HeldCertificate): void;
}

export function servingCertificateManager(o: ServingRotationOptions): CertificateManager {
  return new CertificateManager({
    certDir: o.certDir,
    prefix: 'kubelet-server',
    signerName: kubeletServingSigner,
    usages: ['digital signature', 'server auth'],
    subject: () => ({ commonName: `system:node:${o.nodeName}`, organizations: ['system:nodes'], hosts: [o.nodeName, ...o.hosts] }),
    approvalTimeoutMs: o.approvalTimeoutMs,
    logger: o.logger.child({ certificate: 'serving' }),
    onRenewed: o.onRenewed,
  });
}

/** The issued serving certificate in --cert-dir, when it is current and names every host. */
export function heldServingCertificate(certDir: string, nodeName: string, hosts: string[]): { certPem: string; keyPem: string; certFile: string } | undefined {
  const held = readCurrent(certDir, 'kubelet-server');
  if (!held || !reusable(held.certPem, held.keyPem, [nodeName, ...hosts])) return undefined;
  return { certPem: held.certPem, keyPem: held.keyPem, certFile: currentPemPath(certDir, 'kubelet-server') };
}
