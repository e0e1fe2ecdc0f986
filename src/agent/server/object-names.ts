// Kubernetes object name rules, for names that arrive in node API paths. A name that passes
// cannot hold '/', '.' runs or anything else that could step out of a directory when it is
// joined into a path (pod log directories are built from these names).

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** RFC 1123 label: namespaces and container names. */
export function isDnsLabel(name: string): boolean {
  return name.length <= 63 && dnsLabel.test(name);
}

/** RFC 1123 subdomain: pod names. */
export function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && dnsSubdomain.test(name);
}
