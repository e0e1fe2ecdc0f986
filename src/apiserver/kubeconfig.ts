// The kubeconfig that points kubectl and client-node at this server. The dev control plane
// does not authenticate; the token in it is a placeholder.
import YAML from 'yaml';

export function kubeconfigYaml(server: string, caCert?: string): string {
  const cluster: Record<string, string | boolean> = { server };
  if (caCert) cluster['certificate-authority-data'] = Buffer.from(caCert).toString('base64');
  // client-node refuses plain http:// unless this is set; kubectl ignores it for http.
  else cluster['insecure-skip-tls-verify'] = true;
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'mini-kubelet', cluster }],
    // The server accepts any client; a token only stops kubectl asking for a password over TLS.
    users: [{ name: 'mini-kubelet-dev', user: { token: 'mini-kubelet-dev' } }],
    contexts: [{ name: 'mini-kubelet', context: { cluster: 'mini-kubelet', user: 'mini-kubelet-dev', namespace: 'default' } }],
    'current-context': 'mini-kubelet',
    preferences: {},
  });
}
