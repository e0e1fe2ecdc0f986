// Which names a device plugin may register, by the kubelet's rules for extended resources:
// a qualified name with a domain prefix ("example.com/fpga"), outside the kubernetes.io
// domains (reserved for native resources) and not starting with "requests.".

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const namePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Returns why `name` is not a valid extended resource name, or undefined when it is. */
export function extendedResourceNameError(name: string): string | undefined {
  const slash = name.indexOf('/');
  if (slash < 0) return `resource name "${name}" has no domain prefix (want e.g. example.com/${name || 'device'})`;
  const domain = name.slice(0, slash);
  const local = name.slice(slash + 1);
  if (!domain || domain.length > 253 || !dnsSubdomain.test(domain)) return `resource name "${name}" has an invalid domain "${domain}"`;
  if (!local || local.length > 63 || !namePart.test(local)) return `resource name "${name}" has an invalid name part "${local}"`;
  if (domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io')) return `resource name "${name}" is in the kubernetes.io domain, which is reserved for native resources`;
  if (name.startsWith('requests.')) return `resource name "${name}" may not start with "requests."`;
  return undefined;
}

/** True for names the device manager could own (extended resources), as opposed to cpu, memory,
 * hugepages-*, ephemeral-storage and other native resources. */
export function isExtendedResourceName(name: string): boolean {
  return extendedResourceNameError(name) === undefined;
}
