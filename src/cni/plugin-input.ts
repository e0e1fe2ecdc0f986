// What one plugin invocation receives: the CNI_* environment and the JSON on stdin (the
// plugin's own config plus name, cniVersion, prevResult and the runtimeConfig it asked for).
import type { NetworkConfigList, PluginConfig } from './config.ts';
import { CniErrorCode, CniPluginError } from './errors.ts';
import { resultAsVersion, type CniResult } from './result.ts';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

/** The attachment an ADD/CHECK/DEL is about: container + netns + interface (+ CNI_ARGS). */
export interface CniAttachment {
  containerId: string;
  /** Netns path; may be empty on DEL (the runtime may already have removed it). */
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs, without IgnoreUnknown (always added). */
  args: Array<[string, string]>;
  /** Everything the runtime could offer (portMappings, bandwidth, dns, ...); each plugin
   * sees only the keys it declares in its capabilities. */
  capabilityArgs: Record<string, unknown>;
}

/** The kubelet's CNI_ARGS for a pod sandbox. */
export function podCniArgs(pod: { namespace: string; name: string; uid: string; sandboxId: string }): Array<[string, string]> {
  return [
    ['K8S_POD_NAMESPACE', pod.namespace],
    ['K8S_POD_NAME', pod.name],
    ['K8S_POD_INFRA_CONTAINER_ID', pod.sandboxId],
    ['K8S_POD_UID', pod.uid],
  ];
}

/** "IgnoreUnknown=1;K=V;..." — IgnoreUnknown lets plugins that do not know the K8S_ keys accept them. */
export function formatCniArgs(pairs: Array<[string, string]>): string {
  for (const [k, v] of pairs) {
    if (/[;=]/.test(k) || v.includes(';')) {
      throw new CniPluginError(CniErrorCode.invalidEnvironment, `CNI_ARGS pair ${k}=${v} may not contain ";" (or "=" in the key)`);
    }
  }
  return [['IgnoreUnknown', '1'] as [string, string], ...pairs].map(([k, v]) => `${k}=${v}`).join(';');
}

/** Parse CNI_ARGS back into a map (what the agent does with the delegate's request). */
export function parseCniArgs(text: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (text ?? '').split(';')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    if (eq > 0) out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

/** The environment of one invocation: ours, minus any CNI_* we inherited, plus the spec's variables. */
export function buildPluginEnv(command: CniCommand, binDirs: string[], attachment?: CniAttachment, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !k.startsWith('CNI_')) env[k] = v;
  env.CNI_COMMAND = command;
  env.CNI_PATH = binDirs.join(':');
  if (attachment) {
    env.CNI_CONTAINERID = attachment.containerId;
    env.CNI_NETNS = attachment.netns;
    env.CNI_IFNAME = attachment.ifName;
    env.CNI_ARGS = formatCniArgs(attachment.args);
  }
  return env;
}

/** runtimeConfig for one plugin: only the capabilities it declares as true and the runtime has. */
export function filterRuntimeConfig(plugin: PluginConfig, capabilityArgs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [cap, wanted] of Object.entries(plugin.capabilities ?? {})) {
    if (wanted && capabilityArgs[cap] !== undefined) out[cap] = capabilityArgs[cap];
  }
  return out;
}

/** The JSON a plugin reads on stdin. */
export function buildPluginStdin(
  list: NetworkConfigList,
  plugin: PluginConfig,
  opts: { prevResult?: CniResult; capabilityArgs?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  delete conf.prevResult;
  delete conf.runtimeConfig;
  if (opts.prevResult) conf.prevResult = resultAsVersion(opts.prevResult, list.cniVersion);
  const runtimeConfig = filterRuntimeConfig(plugin, opts.capabilityArgs ?? {});
  if (Object.keys(runtimeConfig).length) conf.runtimeConfig = runtimeConfig;
  return conf;
}
