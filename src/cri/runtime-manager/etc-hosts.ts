// The pod's /etc/hosts, as the kubelet manages it: a file per pod at <root-dir>/pods/<uid>/etc-hosts,
// bind-mounted at /etc/hosts into each container that does not mount its own there. A pod on the
// pod network gets the kubelet's generated file (localhost lines, its IPs with its hostname, then
// spec.hostAliases); a hostNetwork pod gets a copy of the node's /etc/hosts plus its hostAliases.
// The file is rewritten at each container start, so a new sandbox's IP reaches the next container.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { V1Container, V1HostAlias, V1Pod } from '@kubernetes/client-node';

export const ETC_HOSTS_CONTAINER_PATH = '/etc/hosts';
// The kubelet's headers: e2e tests (and people) tell a managed file by the first one.
const MANAGED_HEADER = '# Kubernetes-managed hosts file.\n';
const HOST_NETWORK_HEADER = '# Kubernetes-managed hosts file (host network).\n';
const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
// A Linux hostname holds at most 63 characters.
const HOSTNAME_MAX = 63;

export interface HostsFileIdentity {
  podIPs: readonly string[];
  hostname: string;
  /** "<subdomain>.<namespace>.svc.<cluster domain>", or "" without spec.subdomain. */
  domain: string;
  hostAliases: readonly V1HostAlias[];
}

/** <root-dir>/pods/<uid>/etc-hosts, where the kubelet keeps the file. */
export function etcHostsPath(rootDir: string, podUid: string): string {
  return join(rootDir, 'pods', podUid, 'etc-hosts');
}

/** The hostname and domain the kubelet writes for a pod: spec.hostname or the pod name, cut to 63
 * characters without a trailing '-' or '.'; a domain only when spec.subdomain is set. */
export function podHostnameAndDomain(pod: V1Pod, clusterDomain = DEFAULT_CLUSTER_DOMAIN): { hostname: string; domain: string } {
  const name = pod.metadata?.name ?? '';
  let hostname = pod.spec?.hostname || name;
  if (hostname.length > HOSTNAME_MAX) hostname = hostname.slice(0, HOSTNAME_MAX).replace(/[-.]+$/, '');
  const subdomain = pod.spec?.subdomain;
  const domain = subdomain ? `${subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

/** The generated file of a pod on the pod network. */
export function managedHostsFileContent(id: HostsFileIdentity): string {
  let out = MANAGED_HEADER
    + '127.0.0.1\tlocalhost\n'
    + '::1\tlocalhost ip6-localhost ip6-loopback\n'
    + 'fe00::0\tip6-localnet\n'
    + 'fe00::0\tip6-mcastprefix\n'
    + 'fe00::1\tip6-allnodes\n'
    + 'fe00::2\tip6-allrouters\n';
  const names = id.domain ? `${id.hostname}.${id.domain}\t${id.hostname}` : id.hostname;
  for (const ip of id.podIPs) out += `${ip}\t${names}\n`;
  return out + hostAliasEntries(id.hostAliases);
}

/** A hostNetwork pod's file: the node's own /etc/hosts, then the pod's hostAliases. */
export function hostNetworkHostsFileContent(nodeHosts: string, hostAliases: readonly V1HostAlias[]): string {
  return HOST_NETWORK_HEADER + nodeHosts + hostAliasEntries(hostAliases);
}

/** spec.hostAliases under their own comment, one line per IP with all its names. */
export function hostAliasEntries(hostAliases: readonly V1HostAlias[]): string {
  if (!hostAliases.length) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const alias of hostAliases) out += `${alias.ip}\t${(alias.hostnames ?? []).join('\t')}\n`;
  return out;
}

/** Whether this container gets the managed file: not when it mounts something at /etc/hosts itself,
 * and (as the kubelet) not before the pod has an IP; a hostNetwork pod has the node's. */
export function shouldMountEtcHosts(pod: V1Pod, container: V1Container, podIPs: readonly string[]): boolean {
  if (container.volumeMounts?.some((m) => m.mountPath === ETC_HOSTS_CONTAINER_PATH)) return false;
  return pod.spec?.hostNetwork === true || podIPs.length > 0;
}

/** Writes the pod's file (mode 0644, readable by any container user); returns its host path. */
export async function writeEtcHostsFile(rootDir: string, pod: V1Pod, podIPs: readonly string[], nodeHostsPath = ETC_HOSTS_CONTAINER_PATH): Promise<string> {
  const path = etcHostsPath(rootDir, pod.metadata?.uid ?? '');
  const hostAliases = pod.spec?.hostAliases ?? [];
  let content: string;
  if (pod.spec?.hostNetwork) {
    let nodeHosts: string;
    try {
      nodeHosts = await readFile(nodeHostsPath, 'utf8');
    } catch (err) {
      throw new Error(`reading the node's hosts file ${nodeHostsPath} for a hostNetwork pod: ${(err as Error).message}`);
    }
    content = hostNetworkHostsFileContent(nodeHosts, hostAliases);
  } else {
    content = managedHostsFileContent({ podIPs, ...podHostnameAndDomain(pod), hostAliases });
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode: 0o644 });
  await chmod(path, 0o644);
  return path;
}
