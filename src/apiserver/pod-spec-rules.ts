// Rules of a pod spec beyond names, images and ports, as kube-apiserver's ValidatePodSpec applies
// them: volumes named uniquely as DNS labels, mounts of known volumes only, env vars with names,
// requests within limits, probe thresholds, init container restart policies, unique host ports,
// host-network ports, a dnsConfig for dnsPolicy None, hostname and subdomain, the active deadline.
import type { FieldError } from './errors.ts';
import { dnsLabelProblems } from './names.ts';
import { canonicalQuantity, parseExact } from '../pod/quantity-canonical.ts';

type Json = Record<string, any>;
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The DNS-1123 label errors of a value at field (one per problem, as ValidateDNS1123Label). */
export function dnsLabelErrors(value: string, field: string): FieldError[] {
  return dnsLabelProblems(value).map((detail) => ({ type: 'Invalid', field, value, detail }));
}

/** spec.volumes: each named, the name a DNS label, no name twice. The names, for the mounts to refer to. */
export function volumeErrors(spec: Json, path: string): { errors: FieldError[]; names: Set<string> } {
  const errors: FieldError[] = [];
  const names = new Set<string>();
  list(spec.volumes).forEach((v, i) => {
    const field = `${path}.volumes[${i}].name`;
    const name = isMap(v) ? v.name : undefined;
    if (!name) {
      errors.push({ type: 'Required', field, detail: '' });
      return;
    }
    errors.push(...dnsLabelErrors(String(name), field));
    if (names.has(name)) errors.push({ type: 'Duplicate', field, value: name, detail: '' });
    else names.add(name);
  });
  return { errors, names };
}

/** A container's env: every variable named. */
export function envErrors(c: Json, at: string): FieldError[] {
  const errors: FieldError[] = [];
  list(c.env).forEach((e, j) => {
    if (!isMap(e) || !e.name) errors.push({ type: 'Required', field: `${at}.env[${j}].name`, detail: '' });
  });
  return errors;
}

/** A container's volumeMounts: each names a volume of the pod and has a mountPath. */
export function volumeMountErrors(c: Json, at: string, volumes: Set<string>): FieldError[] {
  const errors: FieldError[] = [];
  list(c.volumeMounts).forEach((m, j) => {
    const mp = `${at}.volumeMounts[${j}]`;
    const name = isMap(m) ? m.name : undefined;
    if (!name) errors.push({ type: 'Required', field: `${mp}.name`, detail: '' });
    else if (!volumes.has(name)) errors.push({ type: 'NotFound', field: `${mp}.name`, value: name, detail: '' });
    if (!isMap(m) || !m.mountPath) errors.push({ type: 'Required', field: `${mp}.mountPath`, detail: '' });
  });
  return errors;
}

/** Compares two quantities exactly; undefined when either does not parse (decoding refuses those first). */
function compareQuantities(a: unknown, b: unknown): number | undefined {
  try {
    const x = parseExact(String(a).trim());
    const y = parseExact(String(b).trim());
    const scale = Math.min(x.scale, y.scale);
    const xs = x.unscaled * 10n ** BigInt(x.scale - scale);
    const ys = y.unscaled * 10n ** BigInt(y.scale - scale);
    return xs === ys ? 0 : xs < ys ? -1 : 1;
  } catch {
    return undefined;
  }
}

/** A container's resources: no request above its limit. */
export function resourceErrors(c: Json, at: string): FieldError[] {
  const requests = isMap(c.resources?.requests) ? c.resources.requests : {};
  const limits = isMap(c.resources?.limits) ? c.resources.limits : {};
  const errors: FieldError[] = [];
  for (const [name, request] of Object.entries(requests)) {
    const limit = limits[name];
    if (limit === undefined || limit === null || request === null) continue;
    if ((compareQuantities(request, limit) ?? 0) > 0) {
      errors.push({
        type: 'Invalid', field: `${at}.resources.requests`, value: canonicalQuantity(String(request).trim()),
        detail: `must be less than or equal to ${name} limit of ${canonicalQuantity(String(limit).trim())}`,
      });
    }
  }
  return errors;
}

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const LIFECYCLE_FIELDS = ['lifecycle', ...PROBES] as const;

/** A container's probes: a liveness or startup probe succeeds after one success (an unset threshold defaults to 1). */
export function probeErrors(c: Json, at: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const probe of ['livenessProbe', 'startupProbe']) {
    const threshold = c[probe]?.successThreshold;
    if (isMap(c[probe]) && threshold !== undefined && threshold !== null && threshold !== 0 && threshold !== 1) {
      errors.push({ type: 'Invalid', field: `${at}.${probe}.successThreshold`, value: threshold, detail: 'must be 1' });
    }
  }
  return errors;
}

/** An init container's restartPolicy: only Always (a sidecar); without it, no lifecycle hooks nor probes. */
export function initContainerRestartErrors(c: Json, at: string): FieldError[] {
  const policy = c.restartPolicy;
  if (policy === undefined || policy === null) {
    return LIFECYCLE_FIELDS.filter((f) => c[f] !== undefined && c[f] !== null)
      .map((f) => ({ type: 'Forbidden', field: `${at}.${f}`, detail: 'may not be set for init containers without restartPolicy=Always' }));
  }
  if (policy !== 'Always') return [{ type: 'Unsupported', field: `${at}.restartPolicy`, value: policy, detail: 'supported values: "Always"' }];
  return probeErrors(c, at);
}

/** A regular container's restartPolicy: not to be set. */
export function containerRestartErrors(c: Json, at: string): FieldError[] {
  if (c.restartPolicy === undefined || c.restartPolicy === null) return [];
  return [{ type: 'Forbidden', field: `${at}.restartPolicy`, detail: 'may not be set for non-init containers' }];
}

/** No hostIP/protocol/hostPort used twice by the pod's containers (hostPort 0 is none). */
export function hostPortConflictErrors(containers: any[], path: string): FieldError[] {
  const errors: FieldError[] = [];
  const taken = new Set<string>();
  containers.forEach((c, i) => list(c?.ports).forEach((p, j) => {
    if (!isMap(p) || !p.hostPort) return;
    const key = `${p.hostIP ?? ''}/${p.protocol ?? ''}/${p.hostPort}`;
    if (taken.has(key)) errors.push({ type: 'Duplicate', field: `${path}[${i}].ports[${j}].hostPort`, value: key, detail: '' });
    else taken.add(key);
  }));
  return errors;
}

const HOST_NETWORK_PORT = 'must match `containerPort` when `hostNetwork` is true';

/** With hostNetwork, a port's hostPort is its containerPort: a pod's always (defaulting fills a
 * missing one), a template's where it is set. */
export function hostNetworkPortErrors(spec: Json, path: string, resourceIsPod: boolean): FieldError[] {
  if (spec.hostNetwork !== true) return [];
  const errors: FieldError[] = [];
  list(spec.containers).forEach((c, i) => list(c?.ports).forEach((p, j) => {
    if (!isMap(p)) return;
    const hostPort = p.hostPort ?? 0;
    if ((resourceIsPod || hostPort !== 0) && hostPort !== (p.containerPort ?? 0)) {
      errors.push({ type: 'Invalid', field: `${path}.containers[${i}].ports[${j}].hostPort`, value: hostPort, detail: HOST_NETWORK_PORT });
    }
  }));
  return errors;
}

/** dnsPolicy None takes its whole configuration from dnsConfig, nameservers included. */
export function dnsConfigErrors(spec: Json, path: string): FieldError[] {
  if (spec.dnsPolicy !== 'None') return [];
  if (!isMap(spec.dnsConfig)) return [{ type: 'Required', field: `${path}.dnsConfig`, detail: 'must provide `dnsConfig` when `dnsPolicy` is None' }];
  if (list(spec.dnsConfig.nameservers).length === 0) {
    return [{ type: 'Required', field: `${path}.dnsConfig.nameservers`, detail: 'must provide at least one DNS nameserver when `dnsPolicy` is None' }];
  }
  return [];
}

/** hostname and subdomain, where set, are DNS labels. */
export function hostnameErrors(spec: Json, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const f of ['hostname', 'subdomain']) {
    if (typeof spec[f] === 'string' && spec[f] !== '') errors.push(...dnsLabelErrors(spec[f], `${path}.${f}`));
  }
  return errors;
}

const MAX_INT32 = 2147483647;

/** activeDeadlineSeconds, where set, is 1 to 2^31-1. */
export function activeDeadlineErrors(spec: Json, path: string): FieldError[] {
  const value = spec.activeDeadlineSeconds;
  if (value === undefined || value === null) return [];
  if (Number.isInteger(value) && value >= 1 && value <= MAX_INT32) return [];
  return [{ type: 'Invalid', field: `${path}.activeDeadlineSeconds`, value, detail: `must be between 1 and ${MAX_INT32}, inclusive` }];
}
