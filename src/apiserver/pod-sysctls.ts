// A pod's spec.securityContext.sysctls as kube-apiserver validates them: each name present,
// well-formed (dot- or slash-separated segments, at most 253 characters), not given twice, and
// not a network (or IPC) namespaced sysctl on a pod that shares the host's network (or IPC)
// namespace, where setting it would change the host's.
import type { FieldError } from './errors.ts';

const maxLength = 253;
const segment = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
const namePattern = `^(${segment}[\\./])*${segment}$`;
const nameRegex = new RegExp(namePattern);

export function isValidSysctlName(name: string): boolean {
  return name.length <= maxLength && nameRegex.test(name);
}

/** A name written with slashes (net/ipv4/ip_forward) in its dotted form; with both, dots and slashes swap. */
function dotted(name: string): string {
  const first = name.search(/[./]/);
  if (first < 0 || name[first] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

/** Which of the pod's namespaces a sysctl belongs to (what the kubelet's allowlist knows of). */
function namespaceOf(name: string): 'net' | 'ipc' | undefined {
  const n = dotted(name);
  if (n.startsWith('net.')) return 'net';
  if (n === 'kernel.sem' || n.startsWith('kernel.shm') || n.startsWith('kernel.msg') || n.startsWith('fs.mqueue.')) return 'ipc';
  return undefined;
}

export function sysctlErrors(spec: Record<string, any> | undefined, path: string): FieldError[] {
  const sysctls: unknown[] = Array.isArray(spec?.securityContext?.sysctls) ? spec!.securityContext.sysctls : [];
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  sysctls.forEach((s, i) => {
    const name = String((s as { name?: unknown } | null)?.name ?? '');
    const field = `${path}.securityContext.sysctls[${i}].name`;
    if (!name) errors.push({ type: 'Required', field, detail: '' });
    else if (!isValidSysctlName(name)) errors.push({ type: 'Invalid', field, value: name, detail: `must have at most ${maxLength} characters and match regex ${namePattern}` });
    else if (seen.has(name)) errors.push({ type: 'Duplicate', field, value: name, detail: '' });
    const ns = namespaceOf(name);
    if (spec?.hostNetwork === true && ns === 'net') errors.push({ type: 'Invalid', field, value: name, detail: "may not be specified when 'hostNetwork' is true" });
    else if (spec?.hostIPC === true && ns === 'ipc') errors.push({ type: 'Invalid', field, value: name, detail: "may not be specified when 'hostIPC' is true" });
    seen.add(name);
  });
  return errors;
}
