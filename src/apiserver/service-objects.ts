// Services as kube-apiserver's service registry takes them on a single-stack IPv4 cluster with
// --service-cluster-ip-range 10.96.0.0/12 and --service-node-port-range 30000-32767: the v1
// defaults, the cluster IP and node port allocation its REST storage does (an IP or port in use
// by another Service is never handed out again), the IP-family fields it infers, what an
// update keeps from the stored object, and the validation with kube's field paths and texts.
// What is allocated is read from the stored Services themselves, so a deleted Service frees
// its IP and ports at once.
import { randomInt } from 'node:crypto';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { internalError, invalid, type FieldError } from './errors.ts';
import { nameProblem } from './names.ts';
import type { KubeObject } from './store.ts';

export const serviceClusterIPRange = '10.96.0.0/12';
/** The first address of the range: the `kubernetes` Service's, as kube-apiserver reserves it. */
export const kubernetesServiceIP = '10.96.0.1';
export const nodePortRange = { first: 30000, last: 32767 };

const rangeBase = ipv4ToNumber('10.96.0.0');
const rangeSize = 2 ** 20;
/** Dynamic allocation prefers addresses above this offset; the band below is for requested IPs (kube's static subrange). */
const staticBand = 256;
const maxAffinitySeconds = 86400;

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const affinities = ['ClientIP', 'None'];
const trafficPolicies = ['Cluster', 'Local'];
const ipFamilies = ['IPv4', 'IPv6'];
const ipFamilyPolicies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const trafficDistributions = ['PreferClose'];

const quoted = (values: string[]) => values.map((v) => JSON.stringify(v)).join(', ');
const supported = (values: string[]) => `supported values: ${quoted(values)}`;
const isMap = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** Go's %#v of a []string, as kube's messages print clusterIPs. */
export function goStrings(values: unknown): string {
  return Array.isArray(values) ? `[]string{${values.map((v) => JSON.stringify(String(v))).join(', ')}}` : '[]string(nil)';
}

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function numberToIPv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

const specOf = (svc: KubeObject | undefined): Record<string, any> => (isMap(svc?.spec) ? svc!.spec : {});
const clusterIPsOf = (svc: KubeObject | undefined): string[] => list(specOf(svc).clusterIPs);
const familiesOf = (svc: KubeObject | undefined): string[] => list(specOf(svc).ipFamilies);
const portsOf = (svc: KubeObject | undefined): any[] => list(specOf(svc).ports).filter(isMap);
const isHeadless = (svc: KubeObject | undefined) => clusterIPsOf(svc).length === 1 && clusterIPsOf(svc)[0] === 'None';
const needsClusterIP = (svc: KubeObject | undefined) => specOf(svc).type !== 'ExternalName';
const needsNodePort = (svc: KubeObject | undefined) => ['NodePort', 'LoadBalancer'].includes(specOf(svc).type);
const externallyAccessible = (spec: Record<string, any>) =>
  spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && list(spec.externalIPs).length > 0);
const needsHealthCheck = (spec: Record<string, any>) => spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
const shouldAllocateNodePorts = (spec: Record<string, any>) =>
  spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
const sameStrings = (a: unknown[], b: unknown[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const nodePortsOf = (svc: KubeObject | undefined) => portsOf(svc).map((p) => Number(p.nodePort) || 0).filter((n) => n > 0);

/** v1's SetDefaults_Service. */
export function defaultService(svc: KubeObject): void {
  if (!isMap(svc.spec)) svc.spec = {};
  const spec = svc.spec;
  spec.sessionAffinity ||= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && typeof spec.sessionAffinityConfig?.clientIP?.timeoutSeconds !== 'number') {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  spec.type ||= 'ClusterIP';
  for (const port of portsOf(svc)) {
    port.protocol ||= 'TCP';
    // An unset (or zero, or empty) target port is the port itself.
    if (port.targetPort === undefined || port.targetPort === null || port.targetPort === 0 || port.targetPort === '') {
      if (port.port === undefined) delete port.targetPort;
      else port.targetPort = port.port;
    }
  }
  if (externallyAccessible(spec) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.internalTrafficPolicy == null && ['ClusterIP', 'NodePort', 'LoadBalancer'].includes(spec.type)) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
}

/** A Service's name is a DNS-1035 label (it becomes a DNS name and environment variable prefix). */
export function serviceNameProblem(name: string): string | undefined {
  if (name.length > 63) return 'must be no more than 63 characters';
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
  }
  return undefined;
}

/** What other Services hold: cluster IPs and node ports (health-check ones included). */
export interface ServiceAllocations { ips: Set<string>; nodePorts: Set<number> }

export function allocationsOf(services: KubeObject[], except?: KubeObject): ServiceAllocations {
  const ips = new Set<string>();
  const nodePorts = new Set<number>();
  for (const s of services) {
    if (except && s.metadata.namespace === except.metadata.namespace && s.metadata.name === except.metadata.name) continue;
    if (needsClusterIP(s)) for (const ip of clusterIPsOf(s)) if (ip && ip !== 'None') ips.add(ip);
    for (const n of nodePortsOf(s)) nodePorts.add(n);
    const hc = Number(specOf(s).healthCheckNodePort) || 0;
    if (hc > 0) nodePorts.add(hc);
  }
  return { ips, nodePorts };
}

/** The registry's create path, after defaulting and before validation: IPs, families and node ports. Throws kube's 422 (or 500). */
export function prepareServiceForCreate(svc: KubeObject, services: KubeObject[]): void {
  normalizeClusterIPs(svc, undefined);
  const taken = allocationsOf(services, svc);
  fail(svc, initIPFamilyFields(svc, undefined));
  fail(svc, allocateClusterIPs(svc, taken));
  allocateNodePortsOnCreate(svc, taken);
  allocateHealthCheckNodePort(svc, taken);
  // A new Service's status is the empty ServiceStatus, whatever was sent.
  svc.status = { loadBalancer: {} };
}

/** The registry's update path: what the client left out is kept from the stored Service, then allocation as on create. */
export function prepareServiceForUpdate(svc: KubeObject, before: KubeObject, services: KubeObject[]): void {
  if (!isMap(svc.spec)) svc.spec = {};
  patchAllocatedValues(svc, before);
  normalizeClusterIPs(svc, before);
  const taken = allocationsOf(services, svc);
  fail(svc, initIPFamilyFields(svc, before));
  if (specOf(before).type === 'ExternalName' && needsClusterIP(svc)) fail(svc, allocateClusterIPs(svc, taken));
  if (needsNodePort(svc)) updateNodePorts(svc, before, taken);
  if (needsHealthCheck(svc.spec) && !needsHealthCheck(specOf(before))) allocateHealthCheckNodePort(svc, taken);
  dropTypeDependentFields(svc, before);
}

function fail(svc: KubeObject, errors: FieldError[]): void {
  if (errors.length) throw invalid('Service', '', String(svc.metadata.name ?? ''), errors);
}

/** Clients may send clusterIP alone (old ones) or both fields; make clusterIPs follow clusterIP. */
function normalizeClusterIPs(svc: KubeObject, before: KubeObject | undefined): void {
  const spec = svc.spec;
  const ips = clusterIPsOf(svc);
  if (!before) {
    if (str(spec.clusterIP) && ips.length === 0) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const old = specOf(before);
  // A client that knows only clusterIP dropped clusterIPs: keep them while clusterIP is unchanged.
  if (clusterIPsOf(before).length > 0 && ips.length === 0 && str(old.clusterIP) === str(spec.clusterIP)) spec.clusterIPs = old.clusterIPs;
  if (str(old.clusterIP) !== str(spec.clusterIP)) {
    const same = sameStrings(clusterIPsOf(before), clusterIPsOf(svc));
    if (str(old.clusterIP) && !str(spec.clusterIP)) {
      if (same) delete spec.clusterIPs;
    } else if (same) {
      spec.clusterIPs = [spec.clusterIP];
    }
  }
}

/** An update that leaves out what was allocated (a PUT of a manifest) keeps the allocated values. */
function patchAllocatedValues(svc: KubeObject, before: KubeObject): void {
  const spec = svc.spec;
  const old = specOf(before);
  if (needsClusterIP(before) && needsClusterIP(svc)) {
    if (!str(spec.clusterIP)) spec.clusterIP = old.clusterIP;
    if (clusterIPsOf(svc).length === 0 && clusterIPsOf(before).length > 0) spec.clusterIPs = old.clusterIPs;
  }
  if (needsNodePort(before) && needsNodePort(svc)) {
    const inBoth = new Set(nodePortsOf(before).filter((n) => nodePortsOf(svc).includes(n)));
    const byPort = new Map(portsOf(before).map((p) => [`${p.port}/${p.protocol}`, Number(p.nodePort) || 0]));
    for (const p of portsOf(svc)) {
      if (Number(p.nodePort) > 0) continue;
      const previous = byPort.get(`${p.port}/${p.protocol}`) ?? 0;
      if (previous > 0 && !inBoth.has(previous)) p.nodePort = previous;
    }
  }
  if (needsHealthCheck(old) && needsHealthCheck(spec) && !(Number(spec.healthCheckNodePort) > 0)) spec.healthCheckNodePort = old.healthCheckNodePort;
}

/** Fields that stop applying when the type changes, and that the client did not change itself, go. */
function dropTypeDependentFields(svc: KubeObject, before: KubeObject): void {
  const spec = svc.spec;
  const old = specOf(before);
  if (needsClusterIP(before) && !needsClusterIP(svc)) {
    if (sameStrings(clusterIPsOf(before), clusterIPsOf(svc))) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameStrings(familiesOf(before), familiesOf(svc))) delete spec.ipFamilies;
    if (old.ipFamilyPolicy === spec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(before) && !needsNodePort(svc) && sameStrings(portsOf(before).map((p) => p.nodePort ?? 0), portsOf(svc).map((p) => p.nodePort ?? 0))) {
    for (const p of portsOf(svc)) delete p.nodePort;
  }
  if (needsHealthCheck(old) && !needsHealthCheck(spec) && old.healthCheckNodePort === spec.healthCheckNodePort) delete spec.healthCheckNodePort;
  if (spec.type !== 'LoadBalancer') delete spec.allocateLoadBalancerNodePorts;
  if (!externallyAccessible(spec) && old.externalTrafficPolicy === spec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
}

/** ipFamilyPolicy and ipFamilies as the allocator infers them on a single-stack IPv4 cluster. */
function initIPFamilyFields(svc: KubeObject, before: KubeObject | undefined): FieldError[] {
  const spec = svc.spec;
  if (spec.type === 'ExternalName') return [];
  const selectorless = !isMap(spec.selector) || Object.keys(spec.selector).length === 0;
  if (spec.ipFamilyPolicy == null) {
    if (specOf(before).ipFamilyPolicy != null) spec.ipFamilyPolicy = specOf(before).ipFamilyPolicy;
    else if (spec.clusterIP === 'None' && selectorless) spec.ipFamilyPolicy = 'RequireDualStack';
    else spec.ipFamilyPolicy = 'SingleStack';
  }
  const related = clusterIPsRelatedErrors(svc);
  if (related.length) return related;

  const errors: FieldError[] = [];
  const policy = spec.ipFamilyPolicy;
  const policyError = (detail: string) => errors.push({ type: 'Invalid', field: 'spec.ipFamilyPolicy', value: policy, detail });
  if (before) {
    if (policy === 'SingleStack') {
      if (sameStrings(clusterIPsOf(before), clusterIPsOf(svc)) && clusterIPsOf(svc).length > 1) spec.clusterIPs = clusterIPsOf(svc).slice(0, 1);
      if (sameStrings(familiesOf(before), familiesOf(svc)) && familiesOf(svc).length > 1) spec.ipFamilies = familiesOf(svc).slice(0, 1);
    } else {
      if (clusterIPsOf(before).length === 2 && clusterIPsOf(svc).length === 1) policyError("must be 'SingleStack' to release the secondary cluster IP");
      if (familiesOf(before).length === 2 && familiesOf(svc).length === 1) policyError("must be 'SingleStack' to release the secondary IP family");
    }
  }
  if (policy === 'SingleStack') {
    if (clusterIPsOf(svc).length === 2) policyError("must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified");
    if (familiesOf(svc).length === 2) policyError("must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified");
  }
  clusterIPsOf(svc).every((ip, i) => {
    if (ip === 'None') return false;
    if (i < familiesOf(svc).length) return true;
    const family = isIPv6(ip) ? 'IPv6' : 'IPv4';
    if (family === 'IPv4') spec.ipFamilies = [...familiesOf(svc), family];
    else errors.push({ type: 'Invalid', field: `spec.clusterIPs[${i}]`, shown: goStrings(spec.clusterIPs), detail: `${family} is not configured on this cluster` });
    return true;
  });
  if (errors.length) return errors;

  // Headless and selectorless: allowed to name both families even here.
  if (spec.clusterIP === 'None' && selectorless) {
    if (familiesOf(svc).length === 0) spec.ipFamilies = ['IPv4'];
    if (familiesOf(svc).length < 2 && policy !== 'SingleStack') spec.ipFamilies = [...spec.ipFamilies, spec.ipFamilies[0] === 'IPv4' ? 'IPv6' : 'IPv4'];
    return [];
  }
  if (policy === 'RequireDualStack') policyError('this cluster is not configured for dual-stack services');
  familiesOf(svc).forEach((family, i) => {
    if (family !== 'IPv4') errors.push({ type: 'Invalid', field: `spec.ipFamilies[${i}]`, value: family, detail: 'not configured on this cluster' });
  });
  if (errors.length) return errors;
  if (familiesOf(svc).length === 0) spec.ipFamilies = ['IPv4'];
  return [];
}

/** clusterIP, clusterIPs, ipFamilies and ipFamilyPolicy, each alone and against each other. */
function clusterIPsRelatedErrors(svc: KubeObject): FieldError[] {
  const spec = specOf(svc);
  if (spec.type === 'ExternalName') return [];
  const errors: FieldError[] = [];
  const ips = clusterIPsOf(svc);
  const shown = goStrings(spec.clusterIPs);
  if (str(spec.clusterIP)) {
    if (ips.length === 0) errors.push({ type: 'Required', field: 'spec.clusterIPs', detail: '' });
    else if (ips[0] !== spec.clusterIP) errors.push({ type: 'Invalid', field: 'spec.clusterIPs', shown, detail: 'first value must match `clusterIP`' });
  } else if (ips.length !== 0) {
    errors.push({ type: 'Invalid', field: 'spec.clusterIPs', shown, detail: 'must be empty when `clusterIP` is not specified' });
  }
  const seen = new Set<string>();
  familiesOf(svc).forEach((family, i) => {
    if (!ipFamilies.includes(family)) errors.push({ type: 'Unsupported', field: `spec.ipFamilies[${i}]`, value: family, detail: supported(ipFamilies) });
    if (seen.has(family)) errors.push({ type: 'Duplicate', field: `spec.ipFamilies[${i}]`, value: family, detail: '' });
    seen.add(family);
  });
  if (spec.ipFamilyPolicy != null && !ipFamilyPolicies.includes(spec.ipFamilyPolicy)) {
    errors.push({ type: 'Unsupported', field: 'spec.ipFamilyPolicy', value: spec.ipFamilyPolicy, detail: supported(ipFamilyPolicies) });
  }
  let badIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        badIPs = true;
        errors.push({ type: 'Invalid', field: 'spec.clusterIPs', shown, detail: "'None' must be the first and only value" });
      }
      return;
    }
    if (!isIP(String(ip))) {
      badIPs = true;
      errors.push({ type: 'Invalid', field: `spec.clusterIPs[${i}]`, value: ip, detail: 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' });
    }
  });
  if (ips.length > 2) errors.push({ type: 'Invalid', field: 'spec.clusterIPs', shown, detail: 'may only hold up to 2 values' });
  if (badIPs) return errors;
  if (ips.length > 1 && !(ips.some((ip) => isIPv4(ip)) && ips.some((ip) => isIPv6(ip)))) {
    errors.push({ type: 'Invalid', field: 'spec.clusterIPs', shown, detail: 'may specify no more than one IP for each IP family' });
  }
  if (!isHeadless(svc)) {
    ips.forEach((ip, i) => {
      const family = familiesOf(svc)[i];
      if (family === 'IPv4' && isIPv6(ip)) errors.push({ type: 'Invalid', field: `spec.clusterIPs[${i}]`, value: ip, detail: `expected an IPv4 value as indicated by \`ipFamilies[${i}]\`` });
      if (family === 'IPv6' && !isIPv6(ip)) errors.push({ type: 'Invalid', field: `spec.clusterIPs[${i}]`, value: ip, detail: `expected an IPv6 value as indicated by \`ipFamilies[${i}]\`` });
    });
  }
  return errors;
}

/** Why a requested cluster IP cannot be had, or undefined. */
function clusterIPProblem(ip: string, taken: ServiceAllocations): string | undefined {
  const offset = isIPv4(ip) ? ipv4ToNumber(ip) - rangeBase : -1;
  if (offset <= 0 || offset >= rangeSize - 1) return `provided IP is not in the valid range. The range of valid IPs is ${serviceClusterIPRange}`;
  if (taken.ips.has(ip)) return 'provided IP is already allocated';
  return undefined;
}

/** A free address, at random above the static band first (as kube's allocator), then anywhere. */
function nextClusterIP(taken: ServiceAllocations): string | undefined {
  const usable = rangeSize - 2;
  for (const [from, to] of [[staticBand + 1, usable], [1, staticBand]] as const) {
    const start = randomInt(from, to + 1);
    for (let k = 0; k <= to - from; k++) {
      const ip = numberToIPv4(rangeBase + from + ((start - from + k) % (to - from + 1)));
      if (!taken.ips.has(ip)) return ip;
    }
  }
  return undefined;
}

function allocateClusterIPs(svc: KubeObject, taken: ServiceAllocations): FieldError[] {
  const spec = svc.spec;
  if (spec.type === 'ExternalName' || isHeadless(svc)) return [];
  const ips = [...clusterIPsOf(svc)];
  familiesOf(svc).forEach((_family, i) => {
    if (i >= ips.length) ips.push('');
  });
  for (const [i, ip] of ips.entries()) {
    if (ip === '') {
      const next = nextClusterIP(taken);
      if (!next) throw internalError('failed to allocate a serviceIP: range is full');
      ips[i] = next;
    } else {
      const problem = clusterIPProblem(ip, taken);
      if (problem) return [{ type: 'Invalid', field: 'spec.clusterIPs', shown: goStrings(spec.clusterIPs), detail: `failed to allocate IP ${ip}: ${problem}` }];
    }
    taken.ips.add(ips[i]!);
  }
  spec.clusterIPs = ips;
  if (ips.length) spec.clusterIP = ips[0];
  return [];
}

/** Reserves a requested node port, or throws kube's 422 for the port at index i. */
function reserveNodePort(svc: KubeObject, port: number, field: string, taken: ServiceAllocations): void {
  let problem: string | undefined;
  if (!Number.isInteger(port) || port < nodePortRange.first || port > nodePortRange.last) {
    problem = `provided port is not in the valid range. The range of valid ports is ${nodePortRange.first}-${nodePortRange.last}`;
  } else if (taken.nodePorts.has(port)) {
    problem = 'provided port is already allocated';
  }
  if (problem) fail(svc, [{ type: 'Invalid', field, value: port, detail: problem }]);
  taken.nodePorts.add(port);
}

function nextNodePort(taken: ServiceAllocations): number {
  const size = nodePortRange.last - nodePortRange.first + 1;
  const start = randomInt(size);
  for (let k = 0; k < size; k++) {
    const port = nodePortRange.first + ((start + k) % size);
    if (!taken.nodePorts.has(port)) {
      taken.nodePorts.add(port);
      return port;
    }
  }
  throw internalError('failed to allocate a nodePort: range is full');
}

/** On create, ports with the same number (e.g. 53/TCP and 53/UDP) share one node port. */
function allocateNodePortsOnCreate(svc: KubeObject, taken: ServiceAllocations): void {
  const ports = portsOf(svc);
  const allocate = shouldAllocateNodePorts(svc.spec);
  const byNumber = new Map<unknown, number>();
  ports.forEach((p, i) => {
    const requested = Number(p.nodePort) || 0;
    if (requested === 0 && !allocate) return;
    const field = `spec.ports[${i}].nodePort`;
    const shared = byNumber.get(p.port);
    if (shared === undefined) {
      const wanted = ports.find((q) => q.port === p.port && Number(q.nodePort) > 0)?.nodePort;
      if (wanted) reserveNodePort(svc, Number(wanted), field, taken);
      p.nodePort = wanted ? Number(wanted) : nextNodePort(taken);
      byNumber.set(p.port, p.nodePort);
    } else if (requested !== shared) {
      if (requested === 0) p.nodePort = shared;
      else reserveNodePort(svc, requested, field, taken);
    }
  });
}

/** On update, node ports the Service held stay its own; new ones are reserved or allocated. */
function updateNodePorts(svc: KubeObject, before: KubeObject, taken: ServiceAllocations): void {
  const held = new Set(nodePortsOf(before));
  const allocate = shouldAllocateNodePorts(svc.spec);
  portsOf(svc).forEach((p, i) => {
    const requested = Number(p.nodePort) || 0;
    if (requested === 0 && !allocate) return;
    if (requested === 0) p.nodePort = nextNodePort(taken);
    else if (!held.has(requested)) {
      reserveNodePort(svc, requested, `spec.ports[${i}].nodePort`, taken);
      held.add(requested);
    }
  });
}

function allocateHealthCheckNodePort(svc: KubeObject, taken: ServiceAllocations): void {
  const spec = svc.spec;
  if (!needsHealthCheck(spec)) return;
  const requested = Number(spec.healthCheckNodePort) || 0;
  if (requested === 0) {
    spec.healthCheckNodePort = nextNodePort(taken);
    return;
  }
  const inRange = Number.isInteger(requested) && requested >= nodePortRange.first && requested <= nodePortRange.last;
  if (!inRange || taken.nodePorts.has(requested)) {
    const why = inRange ? 'provided port is already allocated' : `provided port is not in the valid range. The range of valid ports is ${nodePortRange.first}-${nodePortRange.last}`;
    throw internalError(`failed to allocate requested HealthCheck NodePort ${requested}: ${why}`);
  }
  taken.nodePorts.add(requested);
}

function portNumberErrors(value: unknown, field: string): FieldError[] {
  const n = typeof value === 'number' ? value : 0;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? [] : [{ type: 'Invalid', field, value: value ?? 0, detail: 'must be between 1 and 65535, inclusive' }];
}

/** IsValidPortName: an IANA service name. */
function portNameErrors(name: string, field: string): FieldError[] {
  const details: string[] = [];
  if (name.length > 15) details.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) details.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) details.push('must contain at least one letter (a-z)');
  if (name.includes('--')) details.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) details.push('must not begin or end with a hyphen');
  return details.map((detail) => ({ type: 'Invalid', field, value: name, detail }));
}

function servicePortErrors(p: Record<string, any>, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const name = str(p.name);
  if (requireName && !name) errors.push({ type: 'Required', field: `${path}.name`, detail: '' });
  else if (name) {
    const problem = nameProblem(name, true);
    if (problem) errors.push({ type: 'Invalid', field: `${path}.name`, value: name, detail: problem });
    if (names.has(name)) errors.push({ type: 'Duplicate', field: `${path}.name`, value: name, detail: '' });
    else names.add(name);
  }
  errors.push(...portNumberErrors(p.port, `${path}.port`));
  if (!p.protocol) errors.push({ type: 'Required', field: `${path}.protocol`, detail: '' });
  else if (!protocols.includes(p.protocol)) errors.push({ type: 'Unsupported', field: `${path}.protocol`, value: p.protocol, detail: supported(protocols) });
  if (typeof p.targetPort === 'string') errors.push(...portNameErrors(p.targetPort, `${path}.targetPort`));
  else errors.push(...portNumberErrors(p.targetPort ?? 0, `${path}.targetPort`));
  return errors;
}

/** Go's %#v of the (protocol, port) key kube reports a duplicate port with. */
function portKeyShown(p: Record<string, any>): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(str(p.protocol))}, AppProtocol:(*string)(nil), Port:${Number(p.port) || 0}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

/** ValidateNonSpecialIP for an IPv4 external IP. */
function specialIPProblem(ip: string): string | undefined {
  if (!isIPv4(ip)) return ip === '::' ? 'may not be unspecified (::)' : ip === '::1' ? 'may not be in the loopback range (127.0.0.0/8, ::1/128)' : undefined;
  const [a, b, c] = ip.split('.').map(Number);
  if (ip === '0.0.0.0') return 'may not be unspecified (0.0.0.0)';
  if (a === 127) return 'may not be in the loopback range (127.0.0.0/8, ::1/128)';
  if (a === 169 && b === 254) return 'may not be in the link-local range (169.254.0.0/16, fe80::/10)';
  if (a === 224 && b === 0 && c === 0) return 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)';
  return undefined;
}

function isCIDR(value: string): boolean {
  const [ip, bits, extra] = value.split('/');
  if (extra !== undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
  const family = isIP(ip ?? '');
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

/** ValidateService: a Service on create, and the new Service on update. */
export function validateService(svc: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const spec = specOf(svc);
  const ports = list(spec.ports);
  const headless = isHeadless(svc);
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errors.push({ type: 'Required', field: 'spec.ports', detail: '' });
  if ((spec.type === 'LoadBalancer' || spec.type === 'NodePort') && headless) {
    errors.push({ type: 'Invalid', field: 'spec.clusterIPs[0]', value: 'None', detail: `may not be set to 'None' for ${spec.type} services` });
  }
  if (spec.type === 'ExternalName') {
    if (clusterIPsOf(svc).length > 0) errors.push({ type: 'Forbidden', field: 'spec.clusterIPs', detail: 'may not be set for ExternalName services' });
    if (familiesOf(svc).length > 0) errors.push({ type: 'Forbidden', field: 'spec.ipFamilies', detail: 'may not be set for ExternalName services' });
    if (spec.ipFamilyPolicy != null) errors.push({ type: 'Forbidden', field: 'spec.ipFamilyPolicy', detail: 'may not be set for ExternalName services' });
    const cname = str(spec.externalName).replace(/\.$/, '');
    if (!cname) errors.push({ type: 'Required', field: 'spec.externalName', detail: '' });
    else {
      const problem = nameProblem(cname, false);
      if (problem) errors.push({ type: 'Invalid', field: 'spec.externalName', value: cname, detail: problem });
    }
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errors.push(...servicePortErrors(isMap(p) ? p : {}, ports.length > 1, names, `spec.ports[${i}]`)));

  if (!spec.sessionAffinity) errors.push({ type: 'Required', field: 'spec.sessionAffinity', detail: '' });
  else if (!affinities.includes(spec.sessionAffinity)) errors.push({ type: 'Unsupported', field: 'spec.sessionAffinity', value: spec.sessionAffinity, detail: supported(affinities) });
  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (typeof timeout === 'number' && (timeout <= 0 || timeout > maxAffinitySeconds)) {
      errors.push({ type: 'Invalid', field: 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', value: timeout, detail: `must be greater than 0 and less than ${maxAffinitySeconds}` });
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig != null) {
    errors.push({ type: 'Forbidden', field: 'spec.sessionAffinityConfig', detail: 'must not be set when session affinity is None' });
  }
  errors.push(...clusterIPsRelatedErrors(svc));
  list(spec.externalIPs).forEach((ip, i) => {
    const field = `spec.externalIPs[${i}]`;
    if (!isIP(String(ip))) errors.push({ type: 'Invalid', field, value: ip, detail: 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' });
    else {
      const problem = specialIPProblem(String(ip));
      if (problem) errors.push({ type: 'Invalid', field, value: ip, detail: problem });
    }
  });
  if (!spec.type) errors.push({ type: 'Required', field: 'spec.type', detail: '' });
  else if (!serviceTypes.includes(spec.type)) errors.push({ type: 'Unsupported', field: 'spec.type', value: spec.type, detail: supported(serviceTypes) });
  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (Number(p?.nodePort) > 0) errors.push({ type: 'Forbidden', field: `spec.ports[${i}].nodePort`, detail: "may not be used when `type` is 'ClusterIP'" });
    });
  }
  const nodePortKeys = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    if (!isMap(p)) return;
    if (Number(p.nodePort) > 0) {
      const key = `${p.protocol}/${p.nodePort}`;
      if (nodePortKeys.has(key)) errors.push({ type: 'Duplicate', field: `spec.ports[${i}].nodePort`, value: p.nodePort, detail: '' });
      nodePortKeys.add(key);
    }
    const key = `${p.protocol}/${p.port}`;
    if (portKeys.has(key)) errors.push({ type: 'Duplicate', field: `spec.ports[${i}]`, shown: portKeyShown(p), detail: '' });
    portKeys.add(key);
  });
  const sourceRanges = list(spec.loadBalancerSourceRanges);
  if (sourceRanges.length > 0) {
    // kube's path for this field is capitalised so.
    if (spec.type !== 'LoadBalancer') errors.push({ type: 'Forbidden', field: 'spec.LoadBalancerSourceRanges', detail: "may only be used when `type` is 'LoadBalancer'" });
    sourceRanges.forEach((r, i) => {
      const value = String(r).trim();
      if (!isCIDR(value)) errors.push({ type: 'Invalid', field: `spec.LoadBalancerSourceRanges[${i}]`, value, detail: 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)' });
    });
  }
  if (spec.allocateLoadBalancerNodePorts != null && spec.type !== 'LoadBalancer') {
    errors.push({ type: 'Forbidden', field: 'spec.allocateLoadBalancerNodePorts', detail: "may only be used when `type` is 'LoadBalancer'" });
  }
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) errors.push({ type: 'Required', field: 'allocateLoadBalancerNodePorts', detail: '' });
  if (spec.type !== 'LoadBalancer' && spec.loadBalancerClass != null) {
    errors.push({ type: 'Forbidden', field: 'spec.loadBalancerClass', detail: "may only be used when `type` is 'LoadBalancer'" });
  }
  if (!externallyAccessible(spec)) {
    if (spec.externalTrafficPolicy) errors.push({ type: 'Invalid', field: 'spec.externalTrafficPolicy', value: spec.externalTrafficPolicy, detail: 'may only be set for externally-accessible services' });
  } else if (!spec.externalTrafficPolicy) {
    errors.push({ type: 'Required', field: 'spec.externalTrafficPolicy', detail: '' });
  } else if (!trafficPolicies.includes(spec.externalTrafficPolicy)) {
    errors.push({ type: 'Unsupported', field: 'spec.externalTrafficPolicy', value: spec.externalTrafficPolicy, detail: supported(trafficPolicies) });
  }
  const hc = Number(spec.healthCheckNodePort) || 0;
  if (!needsHealthCheck(spec)) {
    if (hc !== 0) errors.push({ type: 'Invalid', field: 'spec.healthCheckNodePort', value: hc, detail: "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'" });
  } else if (hc === 0) {
    errors.push({ type: 'Required', field: 'spec.healthCheckNodePort', detail: '' });
  } else {
    errors.push(...portNumberErrors(hc, 'spec.healthCheckNodePort'));
  }
  if (spec.internalTrafficPolicy == null) {
    if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) errors.push({ type: 'Required', field: 'spec.internalTrafficPolicy', detail: '' });
  } else if (!trafficPolicies.includes(spec.internalTrafficPolicy)) {
    errors.push({ type: 'Unsupported', field: 'spec.internalTrafficPolicy', value: spec.internalTrafficPolicy, detail: supported(trafficPolicies) });
  }
  if (spec.trafficDistribution != null && !trafficDistributions.includes(spec.trafficDistribution)) {
    errors.push({ type: 'Unsupported', field: 'spec.trafficDistribution', value: spec.trafficDistribution, detail: supported(trafficDistributions) });
  }
  return errors;
}

/** ValidateServiceUpdate's own checks (before those of ValidateService on the new object). */
export function serviceUpdateErrors(before: KubeObject, after: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const [o, n] = [specOf(before), specOf(after)];
  const shown = goStrings(n.clusterIPs);
  if (o.type !== 'ExternalName' && n.type !== 'ExternalName' && !(isHeadless(before) && isHeadless(after))) {
    const [was, now] = [clusterIPsOf(before), clusterIPsOf(after)];
    const changed = { type: 'Invalid', field: 'spec.clusterIPs[0]', shown, detail: 'may not change once set' } as const;
    if (was.length === now.length) {
      was.forEach((ip, i) => {
        if (ip !== now[i]) errors.push({ ...changed, field: `spec.clusterIPs[${i}]` });
      });
    } else if (was.length > now.length) {
      if (now.length === 0) errors.push({ type: 'Invalid', field: 'spec.clusterIPs[0]', shown, detail: 'primary clusterIP can not be unset' });
      if (was.length > 0 && now.length > 0 && now[0] !== was[0]) errors.push(changed);
      if (now.length === 1 && n.ipFamilyPolicy !== 'SingleStack') {
        errors.push({ type: 'Invalid', field: 'spec.ipFamilyPolicy', value: n.ipFamilyPolicy ?? null, detail: "must be set to 'SingleStack' when releasing the secondary clusterIP" });
      }
    } else if (was.length > 0 && now[0] !== was[0]) {
      errors.push(changed);
    }
  }
  if (o.type !== 'ExternalName' && n.type !== 'ExternalName' && isHeadless(before) === isHeadless(after) && !isHeadless(after)) {
    const [was, now] = [familiesOf(before), familiesOf(after)];
    const familiesShown = `[]core.IPFamily{${now.map((f) => JSON.stringify(String(f))).join(', ')}}`;
    if (was.length === now.length) {
      if (was.some((f, i) => f !== now[i])) errors.push({ type: 'Invalid', field: 'spec.ipFamilies[0]', shown: familiesShown, detail: 'may not change once set' });
    } else if (was.length > now.length && now.length > 0 && now[0] !== was[0]) {
      errors.push({ type: 'Invalid', field: 'spec.ipFamilies[0]', shown, detail: 'may not change once set' });
    }
  }
  if (o.type === 'LoadBalancer' && n.type === 'LoadBalancer' && (o.loadBalancerClass ?? null) !== (n.loadBalancerClass ?? null)) {
    errors.push({ type: 'Invalid', field: 'spec.loadBalancerClass', value: n.loadBalancerClass ?? null, detail: 'may not change once set' });
  }
  if (needsHealthCheck(o) && needsHealthCheck(n) && o.healthCheckNodePort !== n.healthCheckNodePort) {
    errors.push({ type: 'Forbidden', field: 'spec.healthCheckNodePort', detail: 'field is immutable' });
  }
  return errors;
}

/** The `kubernetes` Service kube-apiserver keeps in `default`: the API server's own address. */
export function kubernetesService(targetPort: number): KubeObject {
  return {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP', clusterIP: kubernetesServiceIP, clusterIPs: [kubernetesServiceIP], sessionAffinity: 'None',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort }],
    },
  };
}

/** kubectl's PORT(S) cell: port/protocol, or port:nodePort/protocol. */
export function servicePortsCell(svc: KubeObject): string {
  const cells = portsOf(svc).map((p) => (Number(p.nodePort) > 0 ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`));
  return cells.length ? cells.join(',') : '<none>';
}

/** kubectl's EXTERNAL-IP cell (server-side printing is always wide, so load balancer names are not clipped). */
export function serviceExternalIPCell(svc: KubeObject): string {
  const spec = specOf(svc);
  const external = list(spec.externalIPs).map(String);
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress = list(svc.status?.loadBalancer?.ingress).map((i) => i?.ip || i?.hostname).filter(Boolean);
      const lb = [...new Set(ingress as string[])].sort();
      if (external.length) return [...lb, ...external].join(',');
      return lb.length ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
  }
  return '<unknown>';
}

/** kubectl's SELECTOR cell: k=v pairs sorted by key, or <none>. */
export function serviceSelectorCell(svc: KubeObject): string {
  const selector = isMap(specOf(svc).selector) ? specOf(svc).selector : {};
  const pairs = Object.keys(selector).sort().map((k) => `${k}=${selector[k]}`);
  return pairs.length ? pairs.join(',') : '<none>';
}
