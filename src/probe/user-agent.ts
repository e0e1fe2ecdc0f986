// The User-Agent the kubelet sends: kube-<purpose>/<major>.<minor>. Servers and their logs tell
// probes (kube-probe) from lifecycle hooks (kube-lifecycle) by it.
export const KUBE_VERSION = { major: '1', minor: '32' } as const;

export function kubeUserAgent(purpose: 'probe' | 'lifecycle' = 'probe'): string {
  return `kube-${purpose}/${KUBE_VERSION.major}.${KUBE_VERSION.minor}`;
}
