// Pod sysctls at admission, as the kubelet's sysctl allowlist: the safe set (kubelet 1.32) is always
// allowed, others only when --allowed-unsafe-sysctls names them (a trailing * is a prefix). Every
// allowed name must be known to live in a namespace the pod owns (ipc or net), and a pod that shares
// the node's ipc or network namespace may not set that namespace's sysctls. A forbidden one
// rejects the pod here (SysctlForbidden) instead of failing its sandbox later.
import type { V1Pod } from '@kubernetes/client-node';

export type SysctlNamespace = 'ipc' | 'net';

// Namespaced and isolated from other pods. The kubelet drops a few on kernels too old to namespace
// them (ip_local_reserved_ports < 3.16, tcp_keepalive_* < 4.5, tcp_rmem/wmem < 4.15); this
// agent assumes a newer kernel.
export const SAFE_SYSCTLS: readonly string[] = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
];

const EXACT_NAMESPACES: Record<string, SysctlNamespace> = { 'kernel.sem': 'ipc' };
const PREFIX_NAMESPACES: Array<[string, SysctlNamespace]> = [['kernel.shm', 'ipc'], ['kernel.msg', 'ipc'], ['fs.mqueue.', 'ipc'], ['net.', 'net']];
// Dotted or slashed segments, the last one may end in '*' (the API's sysctl pattern syntax).
const PATTERN = /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]$/;
const MAX_LENGTH = 253;

/** The namespace a sysctl lives in, or undefined when it is not known to be namespaced. */
export function sysctlNamespace(name: string): SysctlNamespace | undefined {
  return EXACT_NAMESPACES[name] ?? PREFIX_NAMESPACES.find(([prefix]) => name.startsWith(prefix))?.[1];
}

/** "net/ipv4/conf/eth0.100/rp_filter" → "net.ipv4.conf.eth0/100.rp_filter": a name whose first
 * separator is '/' uses '/' between segments, so dots and slashes swap. */
export function dottedSysctlName(name: string): string {
  const first = name.search(/[./]/);
  if (first < 0 || name[first] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** Why an --allowed-unsafe-sysctls entry is refused, or undefined when it is fine. */
export function unsafeSysctlPatternProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_LENGTH || !PATTERN.test(pattern)) {
    return `sysctl "${pattern}" must have at most ${MAX_LENGTH} characters and be dot- or slash-separated lowercase segments, optionally ending in *`;
  }
  const dotted = dottedSysctlName(pattern);
  const name = dotted.endsWith('*') ? dotted.slice(0, -1) : dotted;
  if (!sysctlNamespace(name)) return `the sysctl "${dotted}" is not known to be namespaced`;
  return undefined;
}

export interface SysctlAllowlist {
  names: ReadonlyMap<string, SysctlNamespace>;
  prefixes: ReadonlyMap<string, SysctlNamespace>;
}

/** The safe set plus the unsafe patterns the node allows (already checked by the configuration). */
export function sysctlAllowlist(allowedUnsafe: readonly string[] = []): SysctlAllowlist {
  const names = new Map<string, SysctlNamespace>();
  const prefixes = new Map<string, SysctlNamespace>();
  for (const pattern of [...SAFE_SYSCTLS, ...allowedUnsafe]) {
    const dotted = dottedSysctlName(pattern);
    const isPrefix = dotted.endsWith('*');
    const name = isPrefix ? dotted.slice(0, -1) : dotted;
    const ns = sysctlNamespace(name);
    if (!ns) continue;
    (isPrefix ? prefixes : names).set(name, ns);
  }
  return { names, prefixes };
}

/** The kubelet's message for the first forbidden sysctl of the pod, or undefined when all are allowed. */
export function forbiddenSysctl(pod: V1Pod, allowlist: SysctlAllowlist): string | undefined {
  const hostNetwork = pod.spec?.hostNetwork === true;
  const hostIPC = pod.spec?.hostIPC === true;
  for (const sysctl of pod.spec?.securityContext?.sysctls ?? []) {
    const name = dottedSysctlName(sysctl.name);
    const ns = allowlist.names.get(name) ?? [...allowlist.prefixes].find(([prefix]) => name.startsWith(prefix))?.[1];
    if (!ns) return `forbidden sysctl: "${name}" not allowlisted`;
    if ((ns === 'ipc' && hostIPC) || (ns === 'net' && hostNetwork)) return `forbidden sysctl: "${name}" not allowed with host ${ns} enabled`;
  }
  return undefined;
}
