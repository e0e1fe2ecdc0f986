// Loads a kubeconfig with client-node, which resolves its current context and every kind of
// credential a cluster uses (client certificates, tokens, token files, exec plugins, CA data).
// From client-node's config module, not its index: the index loads the generated API and
// every model with it, tens of MB of the agent's memory (see README.md's dependency list).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';

export { KubeConfig };

export function loadKubeconfigFile(path: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  if (!kubeConfig.getCurrentCluster()) throw new Error(`kubeconfig ${path} names no cluster`);
  return kubeConfig;
}
