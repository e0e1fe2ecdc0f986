// Host port conflicts: two pods may not bind the same port and protocol on overlapping IPs.
import type { V1Pod } from '@kubernetes/client-node';

interface HostPort { hostIP: string; protocol: string; port: number }

function hostPortsOf(pod: V1Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ hostIP: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return out;
}

function overlaps(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port || a.protocol !== b.protocol) return false;
  return a.hostIP === b.hostIP || a.hostIP === '0.0.0.0' || b.hostIP === '0.0.0.0';
}

export function hostPortConflict(pod: V1Pod, others: readonly V1Pod[]): HostPort | undefined {
  // Most pods bind no host port: then the other pods' ports need not be looked at (thousands of them).
  const wanted = hostPortsOf(pod);
  if (!wanted.length) return undefined;
  const taken = others.flatMap(hostPortsOf);
  return wanted.find((want) => taken.some((t) => overlaps(want, t)));
}
