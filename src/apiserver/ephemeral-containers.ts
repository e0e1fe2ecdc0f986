// pods/<name>/ephemeralcontainers (kubectl debug): the only way to change spec.ephemeralContainers,
// and it may only add to the list. Each new one needs a unique name and an image, may name a
// container to share a process namespace with (targetContainerName), and may not carry what an
// ephemeral container never gets: ports, probes, lifecycle hooks, resources, a restart policy.
import type { FieldError } from './errors.ts';

const FORBIDDEN_FIELDS = ['ports', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resources', 'restartPolicy'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function ephemeralContainersUpdateErrors(oldSpec: any, incoming: unknown): FieldError[] {
  const field = 'spec.ephemeralContainers';
  if (incoming !== undefined && incoming !== null && !Array.isArray(incoming)) return [{ type: 'Invalid', field, detail: 'must be a list' }];
  const next: any[] = (incoming as any[] | null | undefined) ?? [];
  const before: any[] = oldSpec?.ephemeralContainers ?? [];
  const errors: FieldError[] = [];
  for (const old of before) {
    const now = next.find((c) => c?.name === old.name);
    if (!now || JSON.stringify(now) !== JSON.stringify(old)) {
      errors.push({ type: 'Forbidden', field, detail: `existing ephemeral containers "${old.name}" may not be changed` });
    }
  }
  const taken = new Set<string>([...(oldSpec?.containers ?? []), ...(oldSpec?.initContainers ?? [])].map((c: any) => c.name));
  const targets = new Set<string>([...(oldSpec?.containers ?? []), ...(oldSpec?.initContainers ?? [])].map((c: any) => c.name));
  next.forEach((c, i) => {
    const at = `${field}[${i}]`;
    if (before.some((old) => old.name === c?.name)) {
      taken.add(c.name);
      return;
    }
    if (!c?.name) errors.push({ type: 'Required', field: `${at}.name`, detail: '' });
    else if (!DNS_LABEL.test(c.name)) errors.push({ type: 'Invalid', field: `${at}.name`, detail: 'a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character', value: c.name });
    else if (taken.has(c.name)) errors.push({ type: 'Duplicate', field: `${at}.name`, detail: '', value: c.name });
    else taken.add(c.name);
    if (!c?.image) errors.push({ type: 'Required', field: `${at}.image`, detail: '' });
    if (c?.targetContainerName && !targets.has(c.targetContainerName)) {
      errors.push({ type: 'Invalid', field: `${at}.targetContainerName`, detail: 'must refer to a container in the pod', value: c.targetContainerName });
    }
    for (const f of FORBIDDEN_FIELDS) {
      if (isSet(c?.[f])) errors.push({ type: 'Forbidden', field: `${at}.${f}`, detail: 'cannot be set for an Ephemeral Container' });
    }
  });
  return errors;
}

/** Present and not empty: kubectl sends `resources: {}` and `ports: []`, which ask for nothing. */
function isSet(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  return typeof v !== 'object' || Object.keys(v).length > 0;
}
