// Kubeconfigs for this server: the cluster's CA to trust it, and a client certificate that
// names the user (CN) and groups (O), as kubeadm writes admin.conf and kubelet.conf.
import YAML from 'yaml';
import type { CertificateAndKey } from '../tls/certificates.ts';

const base64 = (pem: string) => Buffer.from(pem).toString('base64');

export function kubeconfigYaml(server: string, caCertPem: string, userName: string, credentials: CertificateAndKey): string {
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'mini-kubelet', cluster: { server, 'certificate-authority-data': base64(caCertPem) } }],
    users: [{ name: userName, user: { 'client-certificate-data': base64(credentials.certPem), 'client-key-data': base64(credentials.keyPem) } }],
    contexts: [{ name: 'mini-kubelet', context: { cluster: 'mini-kubelet', user: userName, namespace: 'default' } }],
    'current-context': 'mini-kubelet',
    preferences: {},
  });
}
