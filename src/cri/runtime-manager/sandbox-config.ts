// PodSandboxConfig from a pod, as the kubelet's generatePodSandboxConfig: identity and
// attempt, hostname, DNS, the pod log directory, hostPort mappings, labels and annotations,
// and the Linux security context: namespace options (hostNetwork/hostPID/hostIPC), the pod's
// user and groups, privileged when any container is; and the pod's sysctls.
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { PodSandboxConfig, PortMapping } from '../types.ts';
import { podDnsConfig, type ResolvConf } from './dns.ts';
import { podHostnameAndDomain } from './etc-hosts.ts';
import { sandboxAnnotations, sandboxLabels } from './labels.ts';

export interface SandboxConfigOptions {
  podLogsDir: string;
  resolvConf: ResolvConf;
}

/** /var/log/pods/<namespace>_<name>_<uid>: where crictl and log collectors look. */
export function podLogDirectory(podLogsDir: string, pod: V1Pod): string {
  const m = pod.metadata ?? {};
  return join(podLogsDir, `${m.namespace ?? 'default'}_${m.name ?? ''}_${m.uid ?? ''}`);
}

export function buildSandboxConfig(pod: V1Pod, attempt: number, opts: SandboxConfigOptions): PodSandboxConfig {
  const spec = pod.spec;
  const nodeNs = (on: boolean | undefined) => (on ? 'NODE' : 'POD') as 'NODE' | 'POD';
  return {
    metadata: { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default', uid: pod.metadata?.uid ?? '', attempt },
    // The kubelet ignores subdomain here; hostNetwork pods keep the node's hostname. Like its
    // truncatePodHostnameIfNeeded, a name over 63 characters is cut (runc's sethostname refuses it).
    hostname: spec?.hostNetwork ? '' : podHostnameAndDomain(pod).hostname,
    logDirectory: podLogDirectory(opts.podLogsDir, pod),
    dnsConfig: podDnsConfig(pod, opts.resolvConf),
    portMappings: portMappings(pod),
    labels: sandboxLabels(pod),
    annotations: sandboxAnnotations(pod),
    linux: {
      cgroupParent: '',
      securityContext: {
        namespaceOptions: { network: nodeNs(spec?.hostNetwork), pid: spec?.hostPID ? 'NODE' : spec?.shareProcessNamespace ? 'POD' : 'CONTAINER', ipc: nodeNs(spec?.hostIPC) },
        ...(spec?.securityContext?.runAsUser !== undefined ? { runAsUser: { value: spec.securityContext.runAsUser } } : {}),
        ...(spec?.securityContext?.runAsGroup !== undefined ? { runAsGroup: { value: spec.securityContext.runAsGroup } } : {}),
        ...(spec?.securityContext?.supplementalGroups?.length ? { supplementalGroups: spec.securityContext.supplementalGroups } : {}),
        // containerd refuses a privileged container in an unprivileged sandbox.
        privileged: hasPrivilegedContainer(pod),
      },
      sysctls: Object.fromEntries((spec?.securityContext?.sysctls ?? []).map(s => [s.name, s.value])),
    },
  };
}

/** Any init, app or ephemeral container asks for securityContext.privileged. */
export function hasPrivilegedContainer(pod: V1Pod): boolean {
  const spec = pod.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])]
    .some((c) => c.securityContext?.privileged === true);
}

/** Every container port with a hostPort becomes a port mapping (the portmap plugin reads them). */
export function portMappings(pod: V1Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP', containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP ?? '' });
    }
  }
  return out;
}
