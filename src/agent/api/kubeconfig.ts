// Loads a kubeconfig with client-node, which resolves its current context and every kind of
// credential a cluster uses (client certificates, tokens, token files, exec plugins, CA data).
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeconfigFile(path: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  if (!kubeConfig.getCurrentCluster()) throw new Error(`kubeconfig ${path} names no cluster`);
  return kubeConfig;
}
