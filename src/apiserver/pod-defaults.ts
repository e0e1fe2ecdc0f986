// What kube-apiserver's defaulting and admission add to a new pod, for the fields a kubelet
// reads, and the QoS class it reports in status.
import type { V1Pod } from '@kubernetes/client-node';
import { podQosClass } from '../pod/qos-class.ts';
import type { FieldError } from './errors.ts';
import { sysctlErrors } from './pod-sysctls.ts';
import { labelErrors } from './metadata-labels.ts';
import {
  activeDeadlineErrors, containerRestartErrors, dnsConfigErrors, dnsLabelErrors, envErrors, hostnameErrors, hostNetworkPortErrors,
  hostPortConflictErrors, initContainerRestartErrors, probeErrors, resourceErrors, volumeErrors, volumeMountErrors,
} from './pod-spec-rules.ts';
import type { KubeObject } from './store.ts';

export function defaultContainer(c: Record<string, any>): void {
  defaultContainerFields(c);
  // Requests default to limits where only limits are given (a pod's own containers, not a template's).
  if (c.resources.limits) c.resources.requests = { ...c.resources.limits, ...(c.resources.requests ?? {}) };
}

/** The defaults of any container, in a pod or in a pod template. */
function defaultContainerFields(c: Record<string, any>): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imagePullPolicyFor(String(c.image ?? ''));
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
}

/** Always for ":latest" or an untagged image, IfNotPresent otherwise (a digest counts as a tag). */
export function imagePullPolicyFor(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

export function defaultPod(pod: KubeObject): void {
  const spec = (pod.spec ??= {});
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  // v1's deprecated serviceAccount mirrors serviceAccountName (kube's conversion); defaulting
  // the name to "default" is the ServiceAccount admission step's job, which mirror pods skip.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  // The DefaultTolerationSeconds admission plugin: evict from a lost node after 300 s.
  const tolerations: any[] = (spec.tolerations ??= []);
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((t) => t.key === key && (t.effect ?? 'NoExecute') === 'NoExecute')) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
  }
  // A negative grace period is taken as the shortest one, 1 s, rather than refused (kube since 1.27).
  if (typeof spec.terminationGracePeriodSeconds === 'number' && spec.terminationGracePeriodSeconds < 0) spec.terminationGracePeriodSeconds = 1;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) defaultContainer(c);
  // On the host's network a pod's port is the host's: an unset hostPort is its containerPort.
  if (spec.hostNetwork === true) {
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      for (const p of Array.isArray(c?.ports) ? c.ports : []) if (p && !p.hostPort) p.hostPort = p.containerPort;
    }
  }
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) defaultVolume(v);
}

/**
 * A PodTemplate's defaults: those of every pod spec (SetDefaults_PodSpec, containers, volumes),
 * not the ones only a Pod gets (service links, limits as requests) nor what admission adds to a
 * new pod (priority, default tolerations, the service account).
 */
export function defaultPodTemplate(podTemplate: KubeObject): void {
  const template = isMap(podTemplate.template) ? podTemplate.template : (podTemplate.template = {});
  // An embedded ObjectMeta without a creation time still carries the field (as null) on the wire.
  template.metadata = { creationTimestamp: null, ...(isMap(template.metadata) ? template.metadata : {}) };
  const spec = isMap(template.spec) ? template.spec : (template.spec = {});
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  for (const list of ['initContainers', 'containers']) {
    for (const c of Array.isArray(spec[list]) ? spec[list] : []) if (isMap(c)) defaultContainerFields(c);
  }
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) if (isMap(v)) defaultVolume(v);
}

const isMap = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** kube's SetDefaults for volume sources: file modes 0644, hostPath type "", token lifetime 1 h, fieldRef apiVersion v1. */
function defaultVolume(v: Record<string, any>): void {
  const fileMode = 0o644;
  const defaultFieldRefs = (items: any[] | undefined) => {
    for (const item of items ?? []) if (item?.fieldRef) item.fieldRef.apiVersion ??= 'v1';
  };
  if (v.configMap) v.configMap.defaultMode ??= fileMode;
  if (v.secret) v.secret.defaultMode ??= fileMode;
  if (v.hostPath) v.hostPath.type ??= '';
  if (v.downwardAPI) {
    v.downwardAPI.defaultMode ??= fileMode;
    defaultFieldRefs(v.downwardAPI.items);
  }
  if (v.projected) {
    v.projected.defaultMode ??= fileMode;
    for (const source of v.projected.sources ?? []) {
      if (source?.serviceAccountToken) source.serviceAccountToken.expirationSeconds ??= 3600;
      if (source?.downwardAPI) defaultFieldRefs(source.downwardAPI.items);
    }
  }
}

/** Pod status as a newly created pod has it: the API server owns it until a node reports. */
export function initialPodStatus(pod: KubeObject): Record<string, unknown> {
  return { phase: 'Pending', qosClass: podQosClass(pod as V1Pod) };
}

export function validatePod(pod: KubeObject): FieldError[] {
  return validatePodSpec(pod.spec, 'spec', true);
}

/** A PodTemplate's template.spec is checked as a pod's spec is, its template's labels as a pod's. */
export function validatePodTemplate(podTemplate: KubeObject): FieldError[] {
  return [...labelErrors(podTemplate.template?.metadata?.labels, 'template.metadata.labels'), ...validatePodSpec(podTemplate.template?.spec, 'template.spec', false)];
}

/** A pod spec's rules, its errors under `path` (spec for a pod, template.spec for a template). */
export function validatePodSpec(spec: Record<string, any> | undefined, path: string, resourceIsPod = path === 'spec'): FieldError[] {
  const errors: FieldError[] = [];
  const containers = spec?.containers;
  const volumes = volumeErrors(spec ?? {}, path);
  errors.push(...volumes.errors);
  if (!Array.isArray(containers) || containers.length === 0) {
    errors.push({ type: 'Required', field: `${path}.containers`, detail: '' });
    errors.push(...sysctlErrors(spec, path));
    return errors;
  }
  const seen = new Set<string>();
  const check = (list: any[], field: string, init: boolean) => list.forEach((c, i) => {
    const at = `${field}[${i}]`;
    if (!c?.name) errors.push({ type: 'Required', field: `${at}.name`, detail: '' });
    else {
      errors.push(...dnsLabelErrors(String(c.name), `${at}.name`));
      if (seen.has(c.name)) errors.push({ type: 'Duplicate', field: `${at}.name`, detail: '', value: c.name });
      else seen.add(c.name);
    }
    if (!c?.image) errors.push({ type: 'Required', field: `${at}.image`, detail: '' });
    if (Array.isArray(c?.ports)) errors.push(...containerPortErrors(c.ports, `${at}.ports`));
    if (!c) return;
    errors.push(...envErrors(c, at), ...volumeMountErrors(c, at, volumes.names), ...resourceErrors(c, at));
    errors.push(...(init ? initContainerRestartErrors(c, at) : [...probeErrors(c, at), ...containerRestartErrors(c, at)]));
  });
  check(spec!.initContainers ?? [], `${path}.initContainers`, true);
  check(containers, `${path}.containers`, false);
  errors.push(...hostPortConflictErrors(containers, `${path}.containers`));
  errors.push(...hostNetworkPortErrors(spec!, path, resourceIsPod));
  const policy = spec!.restartPolicy;
  if (!['Always', 'OnFailure', 'Never'].includes(policy)) {
    errors.push({ type: 'Unsupported', field: `${path}.restartPolicy`, detail: 'supported values: "Always", "OnFailure", "Never"', value: policy });
  }
  errors.push(...dnsConfigErrors(spec!, path), ...hostnameErrors(spec!, path), ...activeDeadlineErrors(spec!, path));
  errors.push(...sysctlErrors(spec, path));
  return errors;
}

const PORT_RANGE = 'must be between 1 and 65535, inclusive';
const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const validPort = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;

/** A container's ports as kube-apiserver's validateContainerPorts sees them: containerPort set and in
 * range, a hostPort (0 is none) in range, a protocol it knows. */
function containerPortErrors(ports: any[], path: string): FieldError[] {
  const errors: FieldError[] = [];
  ports.forEach((p, i) => {
    const at = `${path}[${i}]`;
    if (!p?.containerPort) errors.push({ type: 'Required', field: `${at}.containerPort`, detail: '' });
    else if (!validPort(p.containerPort)) errors.push({ type: 'Invalid', field: `${at}.containerPort`, detail: PORT_RANGE, value: p.containerPort });
    if (p?.hostPort && !validPort(p.hostPort)) errors.push({ type: 'Invalid', field: `${at}.hostPort`, detail: PORT_RANGE, value: p.hostPort });
    if (!p?.protocol) errors.push({ type: 'Required', field: `${at}.protocol`, detail: '' });
    else if (!PORT_PROTOCOLS.includes(p.protocol)) {
      errors.push({ type: 'Unsupported', field: `${at}.protocol`, detail: `supported values: ${PORT_PROTOCOLS.map((x) => JSON.stringify(x)).join(', ')}`, value: p.protocol });
    }
  });
  return errors;
}

/** kube-apiserver lets an update change only images, activeDeadlineSeconds and tolerations of a pod's spec. */
export function podSpecUpdateErrors(oldSpec: any, newSpec: any): FieldError[] {
  const mutable = (spec: any) => {
    const copy = structuredClone(spec ?? {});
    for (const list of ['containers', 'initContainers']) for (const c of copy[list] ?? []) delete c.image;
    delete copy.activeDeadlineSeconds;
    delete copy.tolerations;
    return JSON.stringify(copy, Object.keys(flatKeys(copy)).sort());
  };
  if (mutable(oldSpec) === mutable(newSpec)) return [];
  return [{
    type: 'Forbidden', field: 'spec',
    detail: 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)',
  }];
}

function flatKeys(value: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (!Array.isArray(value)) out[k] = true;
      flatKeys(v, out);
    }
  }
  return out;
}
