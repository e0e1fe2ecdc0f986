// The pod's DNS configuration for PodSandboxConfig.dns_config, from the node's resolv.conf and
// the pod's dnsPolicy (kubelet's dns configurer, without a cluster DNS service):
// Default and ClusterFirst → the node's servers/searches/options; None → pod.spec.dnsConfig
// only; a pod's dnsConfig is merged on top in the other policies, as the kubelet does.
import type { V1Pod } from '@kubernetes/client-node';
import type { DNSConfig } from '../types.ts';

export interface ResolvConf {
  servers: string[];
  searches: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...values] = line.split(/\s+/);
    if (key === 'nameserver' && values[0]) conf.servers.push(values[0]);
    // The last search/domain line wins, as in the resolver.
    else if (key === 'search' || key === 'domain') conf.searches = values;
    else if (key === 'options') conf.options.push(...values);
  }
  return conf;
}

export function podDnsConfig(pod: V1Pod, node: ResolvConf): DNSConfig {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const base: ResolvConf = policy === 'None' ? { servers: [], searches: [], options: [] } : node;
  const own = pod.spec?.dnsConfig;
  const options = [...base.options];
  for (const o of own?.options ?? []) {
    const text = o.value !== undefined ? `${o.name}:${o.value}` : (o.name ?? '');
    const at = options.findIndex(existing => existing.split(':')[0] === o.name);
    if (at >= 0) options[at] = text;
    else if (text) options.push(text);
  }
  return {
    servers: unique([...base.servers, ...(own?.nameservers ?? [])]),
    searches: unique([...(own?.searches ?? []), ...base.searches]),
    options,
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
