// The kubeconfig that points kubectl and client-node at this server (no credentials: the
// dev control plane does not authenticate).
import YAML from 'yaml';

export function kubeconfigYaml(server: string, caCert?: string): string {
  const cluster: Record<string, string> = { server };
  if (caCert) cluster['certificate-authority-data'] = Buffer.from(caCert).toString('base64');
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'mini-kubelet', cluster }],
    users: [{ name: 'mini-kubelet-dev', user: {} }],
    contexts: [{ name: 'mini-kubelet', context: { cluster: 'mini-kubelet', user: 'mini-kubelet-dev', namespace: 'default' } }],
    'current-context': 'mini-kubelet',
    preferences: {},
  });
}
