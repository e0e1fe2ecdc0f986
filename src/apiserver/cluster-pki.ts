// The control plane's certificates, as kubeadm lays them out: one cluster CA that signs the
// server's serving certificate, the admin's client certificate (CN=kubernetes-admin,
// O=system:masters), node credentials (CN=system:node:<name>, O=system:nodes), and the
// certificate the server itself presents to kubelets (CN=kube-apiserver-kubelet-client).
import { createCertificateAuthority, type CertificateAndKey, type CertificateAuthority } from '../tls/certificates.ts';

export const adminUser = { name: 'kubernetes-admin', groups: ['system:masters'] };
/** kube-apiserver's identity toward kubelets; kubeadm binds it to system:kubelet-api-admin. */
export const kubeletClientUser = 'kube-apiserver-kubelet-client';
/** The names kube-apiserver's serving certificate always answers for, besides its address. */
const clusterServiceNames = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

export interface ClusterPki {
  ca: CertificateAuthority;
  serving: CertificateAndKey;
  admin: CertificateAndKey;
  kubeletClient: CertificateAndKey;
  clientCertificate(user: string, groups: string[]): Promise<CertificateAndKey>;
}

export async function createClusterPki(bind: string, ca?: CertificateAuthority): Promise<ClusterPki> {
  const authority = ca ?? (await createCertificateAuthority('kubernetes'));
  const clientCertificate = (user: string, groups: string[]) =>
    authority.issue({ commonName: user, organizations: groups, usages: ['clientAuth'] });
  const hosts = [...new Set([bind, 'localhost', '127.0.0.1', ...clusterServiceNames])].filter((h) => h !== '0.0.0.0' && h !== '::');
  const [serving, admin, kubeletClient] = await Promise.all([
    authority.issue({ commonName: 'kube-apiserver', hosts, usages: ['serverAuth'] }),
    clientCertificate(adminUser.name, adminUser.groups),
    clientCertificate(kubeletClientUser, []),
  ]);
  return { ca: authority, serving, admin, kubeletClient, clientCertificate };
}
