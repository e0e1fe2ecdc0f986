// The semantics of each verb, shared by the HTTP handlers and the binder: metadata on create,
// optimistic concurrency on update and patch, graceful pod deletion, finalizers, namespaces.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  alreadyExists, ApiError, badRequest, conflict, forbidden, invalid, notFound, type FieldError,
} from './errors.ts';
import { defaultRbacObject, rbacValidationErrors } from './auth/rbac-validation.ts';
import { generateName, nameProblem, pathSegmentNameProblem } from './names.ts';
import { labelErrors } from './metadata-labels.ts';
import { applyPatch, type PatchType } from './patch.ts';
import {
  defaultContainer, defaultPod, defaultPodTemplate, initialPodStatus, podSpecUpdateErrors, validatePod, validatePodTemplate,
} from './pod-defaults.ts';
import { ephemeralContainersUpdateErrors } from './ephemeral-containers.ts';
import { admitServiceAccount } from './service-account-admission.ts';
import {
  defaultPersistentVolume, defaultPersistentVolumeClaim, persistentVolumeClaimUpdateErrors, persistentVolumeUpdateErrors,
  validatePersistentVolume, validatePersistentVolumeClaim,
} from './storage-objects.ts';
import { apiVersionOf, rbacGroup, resourceKey, resourceTypes, type ResourceType } from './registry.ts';
import { matchesFields, matchesLabels, type FieldRequirement, type LabelSelector } from './selectors.ts';
import type { KubeObject, ObjectStore } from './store.ts';
import { immutableDataErrors } from './immutable-data.ts';
import { timeFormatProblem } from './wire-times.ts';
import { quantityFormatProblem } from './wire-quantities.ts';
import {
  defaultService, prepareServiceForCreate, prepareServiceForUpdate, serviceNameProblem, serviceUpdateErrors, validateService,
} from './service-objects.ts';
import { admitRuntimeClass } from './runtime-class-admission.ts';
import { secretUpdateErrors, validateConfigMap, validateSecret } from './config-data.ts';
import { statusUpdate } from './status-updates.ts';
import { scalarTypeProblem } from './json-scalars.ts';
import { csrAfterUpdate, csrUpdateErrors, csrValidationErrors, prepareCsrForCreate } from './certificates/csr-objects.ts';

export const protectedNamespaces = ['default', 'kube-system', 'kube-public'];

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ListOptions {
  labelSelector: LabelSelector;
  fieldSelector: FieldRequirement[];
}

const namespaceType = resourceTypes.find((t) => t.plural === 'namespaces')!;
const serviceAccountType = resourceTypes.find((t) => t.plural === 'serviceaccounts')!;
const serviceKey = resourceKey(resourceTypes.find((t) => t.plural === 'services' && !t.group)!);

export class ResourceService {
  constructor(readonly store: ObjectStore, private readonly now: () => Date = () => new Date()) {}

  get(t: ResourceType, namespace: string, name: string): KubeObject {
    const obj = this.store.get(resourceKey(t), t.namespaced ? namespace : '', name);
    if (!obj) throw notFound(t.plural, t.group, name);
    return obj;
  }

  /** Objects of t in namespace (all namespaces when undefined) that match the selectors. */
  list(t: ResourceType, namespace: string | undefined, opts: ListOptions): KubeObject[] {
    return this.store
      .list(resourceKey(t), t.namespaced ? namespace : undefined)
      .filter((o) => matchesLabels(opts.labelSelector, o.metadata.labels) && matchesFields(opts.fieldSelector, o));
  }

  create(t: ResourceType, namespace: string, body: unknown): KubeObject {
    const obj = this.checkBody(t, namespace, body);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = generateName(String(meta.generateName));
    const name = String(meta.name ?? '');
    if (!name) throw invalid(t.kind, t.group, '', [{ type: 'Required', field: 'metadata.name', detail: 'name or generateName is required' }]);
    // kube does not care what a CSR is called (the kubelet's bootstrap names have capitals and '_').
    const problem = t.group === rbacGroup || t.kind === 'CertificateSigningRequest' ? pathSegmentNameProblem(name)
      : t.kind === 'Service' && !t.group ? serviceNameProblem(name) : nameProblem(name, t.plural === 'namespaces');
    if (problem) throw invalid(t.kind, t.group, name, [{ type: 'Invalid', field: 'metadata.name', detail: problem, value: name }]);
    if (t.namespaced) this.requireLiveNamespace(meta.namespace);
    if (this.store.get(resourceKey(t), meta.namespace ?? '', name)) throw alreadyExists(t.plural, t.group, name);

    meta.uid = randomUUID();
    meta.creationTimestamp = this.timestamp();
    meta.generation = 1;
    for (const k of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'managedFields']) delete meta[k];
    this.prepareForCreate(t, obj);
    this.validate(t, obj);
    const created = this.store.create(resourceKey(t), obj);
    if (t === namespaceType) this.createDefaultServiceAccount(name);
    return created;
  }

  /** PUT: replace the object (or, for subresource "status", only its status). */
  update(t: ResourceType, namespace: string, name: string, body: unknown, subresource?: string): KubeObject {
    const obj = this.checkBody(t, namespace, body);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    const existing = this.store.get(resourceKey(t), t.namespaced ? namespace : '', name);
    if (!existing) {
      if (t.createOnUpdate && !subresource) return this.create(t, namespace, obj);
      throw notFound(t.plural, t.group, name);
    }
    return this.replace(t, existing, obj, subresource);
  }

  patch(t: ResourceType, namespace: string, name: string, type: PatchType, patch: unknown, subresource?: string): KubeObject {
    const existing = this.get(t, namespace, name);
    const patched = applyPatch(type, t.kind, existing, patch);
    if (patched === null || typeof patched !== 'object' || Array.isArray(patched)) throw badRequest('the patch did not produce an object');
    if (!isMap(patched.metadata)) throw badRequest('the patch did not produce an object with metadata');
    patched.metadata = { ...patched.metadata, name, ...(t.namespaced ? { namespace } : {}) };
    checkShapes(t, patched);
    return this.replace(t, existing, patched, subresource);
  }

  delete(t: ResourceType, namespace: string, name: string, options: DeleteOptions): { object: KubeObject; removed: boolean } {
    const existing = this.get(t, namespace, name);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== existing.metadata.uid) {
      throw conflict(t.plural, t.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(t.plural, t.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`);
    }
    if (t === namespaceType) return { object: this.deleteNamespace(existing), removed: true };

    const grace = t.kind === 'Pod' && !t.group ? this.podGracePeriod(existing, options.gracePeriodSeconds) : 0;
    const hasFinalizers = (existing.metadata.finalizers ?? []).length > 0;
    if (grace === 0 && !hasFinalizers) {
      return { object: this.store.delete(resourceKey(t), existing.metadata.namespace ?? '', name)!, removed: true };
    }
    const meta = existing.metadata;
    const pendingGrace = meta.deletionGracePeriodSeconds;
    // A second delete may shorten the grace period, never lengthen it.
    if (meta.deletionTimestamp && pendingGrace !== undefined && pendingGrace <= grace) return { object: existing, removed: false };
    meta.deletionTimestamp = this.timestamp(grace);
    meta.deletionGracePeriodSeconds = grace;
    return { object: this.store.update(resourceKey(t), existing), removed: false };
  }

  /** pods/binding: assign an unbound pod to a node, as the scheduler does. */
  bind(namespace: string, name: string, binding: unknown): KubeObject {
    const podType = resourceTypes.find((r) => r.plural === 'pods' && !r.group)!;
    const b = binding as { target?: { name?: string; kind?: string } } | null;
    const node = b?.target?.name;
    if (!node) throw invalid('Binding', '', name, [{ type: 'Required', field: 'target.name', detail: '' }]);
    const pod = this.get(podType, namespace, name);
    if (pod.spec?.nodeName) throw conflict('pods/binding', '', name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    if (pod.metadata.deletionTimestamp) throw conflict('pods/binding', '', name, `pod ${name} is being deleted, cannot be assigned to a host`);
    pod.spec.nodeName = node;
    const conditions: any[] = (pod.status ??= {}).conditions ?? [];
    const scheduled = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: this.timestamp() };
    pod.status.conditions = [...conditions.filter((c) => c.type !== 'PodScheduled'), scheduled];
    return this.store.update(resourceKey(podType), pod);
  }

  private replace(t: ResourceType, existing: KubeObject, incoming: KubeObject, subresource?: string): KubeObject {
    const rv = incoming.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== existing.metadata.resourceVersion) throw conflict(t.plural, t.group, existing.metadata.name);
    let next: KubeObject;
    if (subresource === 'ephemeralcontainers') {
      const errors = ephemeralContainersUpdateErrors(existing.spec, incoming.spec?.ephemeralContainers);
      if (errors.length) throw invalid(t.kind, t.group, existing.metadata.name, errors);
      const added = structuredClone(incoming.spec?.ephemeralContainers ?? []);
      for (const c of added) defaultContainer(c);
      next = { ...existing, spec: { ...existing.spec, ephemeralContainers: added } };
    } else if (t.kind === 'CertificateSigningRequest' && subresource) {
      // approval and status each change their own part of a CSR.
      next = csrAfterUpdate(existing, incoming, subresource, this.timestamp());
      const errors = csrUpdateErrors(existing, next);
      if (errors.length) throw invalid(t.kind, t.group, existing.metadata.name, errors);
    } else if (subresource === 'status') {
      const update = t.group ? { next: { ...existing, status: incoming.status }, errors: [] } : statusUpdate(t.kind, existing, incoming);
      if (update.errors.length) throw invalid(t.kind, t.group, existing.metadata.name, update.errors);
      next = update.next;
      // kube stamps a volume's phase changes itself.
      if (t.kind === 'PersistentVolume' && next.status?.phase !== existing.status?.phase) {
        next.status = { ...next.status, lastPhaseTransitionTime: this.timestamp() };
      }
    } else {
      next = { ...incoming, metadata: { ...incoming.metadata } };
      // With a status subresource, writes to the object itself leave status alone.
      if (t.subresources.includes('status')) {
        if (existing.status === undefined) delete next.status;
        else next.status = existing.status;
      }
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
        if (existing.metadata[k] === undefined) delete next.metadata[k];
        else next.metadata[k] = existing.metadata[k];
      }
      if (t.kind === 'Pod' && !t.group) {
        defaultPod(next);
        const errors = podSpecUpdateErrors(existing.spec, next.spec);
        if (errors.length) throw invalid(t.kind, t.group, existing.metadata.name, errors);
      }
      if (t.kind === 'Secret') {
        // Decoding defaults an empty type, so a write that leaves it out asks for Opaque.
        next.type ||= 'Opaque';
        convertStringData(next);
      }
      if (t.kind === 'Service' && !t.group) {
        defaultService(next);
        prepareServiceForUpdate(next, existing, this.store.list(serviceKey));
      }
      if (t.kind === 'PodTemplate' && !t.group) defaultPodTemplate(next);
      // A CSR's request is fixed once filed.
      if (t.kind === 'CertificateSigningRequest') next.spec = existing.spec;
      if (!t.group) {
        const errors = immutableDataErrors(t.kind, existing, next);
        if (errors.length) throw invalid(t.kind, t.group, existing.metadata.name, errors);
      }
      if (t.kind === 'PersistentVolume') {
        const errors = persistentVolumeUpdateErrors(existing, next);
        if (errors.length) throw invalid(t.kind, t.group, existing.metadata.name, errors);
      }
      if (t.kind === 'PersistentVolumeClaim') {
        const errors = persistentVolumeClaimUpdateErrors(existing, next);
        if (errors.length) throw invalid(t.kind, t.group, existing.metadata.name, errors);
      }
      defaultRbacObject(t, next);
      if (!isDeepStrictEqual(existing.spec, next.spec)) next.metadata.generation = (existing.metadata.generation ?? 0) + 1;
      this.validate(t, next, existing);
    }
    next.apiVersion = apiVersionOf(t);
    next.kind = t.kind;
    next.metadata.resourceVersion = existing.metadata.resourceVersion;
    delete next.metadata.managedFields;
    // Unchanged objects are not written: no new resourceVersion, no watch event.
    if (isDeepStrictEqual(stripEmpty(existing), stripEmpty(next))) return existing;
    const stored = this.store.update(resourceKey(t), next);
    return this.finishDeletionIfDue(t, stored);
  }

  /** An object marked for deletion goes once its finalizers are gone (a pod: after its grace). */
  private finishDeletionIfDue(t: ResourceType, obj: KubeObject): KubeObject {
    const meta = obj.metadata;
    if (!meta.deletionTimestamp || (meta.finalizers ?? []).length > 0) return obj;
    if (t.kind === 'Pod' && !t.group && meta.deletionGracePeriodSeconds !== 0) return obj;
    return this.store.delete(resourceKey(t), meta.namespace ?? '', meta.name) ?? obj;
  }

  private podGracePeriod(pod: KubeObject, requested: number | undefined): number {
    // Unbound pods and pods that already finished have nothing to stop: they go at once.
    if (!pod.spec?.nodeName) return 0;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
    const grace = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, Math.floor(grace));
  }

  private deleteNamespace(ns: KubeObject): KubeObject {
    const name = ns.metadata.name;
    if (protectedNamespaces.includes(name)) throw forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
    // Simplification of the namespace controller: contents go with the namespace, at once.
    for (const t of resourceTypes.filter((r) => r.namespaced)) {
      for (const o of this.store.list(resourceKey(t), name)) this.store.delete(resourceKey(t), name, o.metadata.name);
    }
    return this.store.delete(resourceKey(namespaceType), '', name)!;
  }

  private checkBody(t: ResourceType, namespace: string, body: unknown): KubeObject {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: the body is not a JSON object`);
    }
    const obj = structuredClone(body) as KubeObject;
    if (obj.kind !== undefined && obj.kind !== t.kind) {
      throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${String(obj.kind)}: the kind of the object does not match the resource`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(t)) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(t)})`);
    }
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    checkShapes(t, obj);
    if (t.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = namespace;
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  private requireLiveNamespace(namespace: string): void {
    const ns = this.store.get(resourceKey(namespaceType), '', namespace);
    if (!ns) throw notFound('namespaces', '', namespace);
    if (ns.metadata.deletionTimestamp) {
      throw forbidden(`unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private prepareForCreate(t: ResourceType, obj: KubeObject): void {
    defaultRbacObject(t, obj);
    if (t.kind === 'CertificateSigningRequest') prepareCsrForCreate(obj);
    if (t.group) return;
    switch (t.kind) {
      case 'Pod':
        defaultPod(obj);
        admitServiceAccount(obj, this.store);
        admitRuntimeClass(obj, this.store);
        obj.status = initialPodStatus(obj);
        break;
      case 'PodTemplate':
        defaultPodTemplate(obj);
        break;
      case 'Service':
        defaultService(obj);
        prepareServiceForCreate(obj, this.store.list(serviceKey));
        break;
      case 'PersistentVolume':
        defaultPersistentVolume(obj, this.timestamp());
        break;
      case 'PersistentVolumeClaim':
        defaultPersistentVolumeClaim(obj);
        break;
      case 'Namespace':
        obj.spec = { finalizers: ['kubernetes'], ...(obj.spec ?? {}) };
        obj.status = { phase: 'Active' };
        obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
        break;
      case 'Secret':
        obj.type ||= 'Opaque';
        convertStringData(obj);
        break;
    }
  }

  private validate(t: ResourceType, obj: KubeObject, existing?: KubeObject): void {
    const errors: FieldError[] = [...labelErrors(obj.metadata.labels, 'metadata.labels'), ...rbacValidationErrors(t, obj, existing)];
    if (t.kind === 'Pod' && !t.group) errors.push(...validatePod(obj));
    if (t.kind === 'PodTemplate' && !t.group) errors.push(...validatePodTemplate(obj));
    if (t.kind === 'Service' && !t.group) errors.push(...(existing ? serviceUpdateErrors(existing, obj) : []), ...validateService(obj));
    if (t.kind === 'ConfigMap' && !t.group) errors.push(...validateConfigMap(obj));
    if (t.kind === 'Secret' && !t.group) errors.push(...(existing ? secretUpdateErrors(existing, obj) : []), ...validateSecret(obj));
    if (t.kind === 'PersistentVolume') errors.push(...validatePersistentVolume(obj));
    if (t.kind === 'PersistentVolumeClaim') errors.push(...validatePersistentVolumeClaim(obj));
    if (t.kind === 'CertificateSigningRequest') errors.push(...csrValidationErrors(obj));
    if (t.kind === 'RuntimeClass' && !obj.handler) errors.push({ type: 'Required', field: 'handler', detail: '' });
    if (t.kind === 'Lease' && obj.spec?.leaseDurationSeconds !== undefined && !(obj.spec.leaseDurationSeconds > 0)) {
      errors.push({ type: 'Invalid', field: 'spec.leaseDurationSeconds', detail: 'must be greater than 0', value: obj.spec.leaseDurationSeconds });
    }
    if (errors.length) throw invalid(t.kind, t.group, obj.metadata.name, errors);
  }

  private createDefaultServiceAccount(namespace: string): void {
    if (this.store.get(resourceKey(serviceAccountType), namespace, 'default')) return;
    this.create(serviceAccountType, namespace, { metadata: { name: 'default' } });
  }

  private timestamp(plusSeconds = 0): string {
    return new Date(this.now().getTime() + plusSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  }
}

const isMap = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The JSON types the Go structs would insist on; a mismatch fails decoding there, a 400 here. */
function checkShapes(t: ResourceType, obj: KubeObject): void {
  const fail = (field: string, want: string) => {
    throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: json: cannot unmarshal ${field} into a ${want}`);
  };
  if (!isMap(obj.metadata)) fail('metadata', 'object');
  for (const k of ['name', 'generateName', 'namespace', 'resourceVersion', 'uid']) {
    if (obj.metadata[k] !== undefined && obj.metadata[k] !== null && typeof obj.metadata[k] !== 'string') fail(`metadata.${k}`, 'string');
  }
  for (const k of ['labels', 'annotations']) {
    const m = obj.metadata[k];
    if (m === undefined || m === null) continue;
    if (!isMap(m) || Object.values(m).some((v) => typeof v !== 'string')) fail(`metadata.${k}`, 'map of strings');
  }
  for (const k of ['finalizers', 'ownerReferences']) {
    if (obj.metadata[k] !== undefined && obj.metadata[k] !== null && !Array.isArray(obj.metadata[k])) fail(`metadata.${k}`, 'list');
  }
  for (const k of ['spec', 'status', 'data', 'stringData', 'binaryData']) {
    if (obj[k] !== undefined && obj[k] !== null && !isMap(obj[k])) fail(k, 'object');
  }
  for (const k of ['containers', 'initContainers', 'volumes', 'tolerations']) {
    const v = obj.spec?.[k];
    if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((e) => !isMap(e)))) fail(`spec.${k}`, 'list of objects');
  }
  // Times and MicroTimes decode as strictly as in kube-apiserver (a Lease's renewTime needs six fraction digits).
  const timeProblem = timeFormatProblem(t.kind, t.version, obj);
  if (timeProblem) throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: ${timeProblem}`);
  // Quantities (requests, limits, sizeLimit, ...) must parse: "abc", "NaN" or a list fail decoding.
  const quantityProblem = quantityFormatProblem(t.kind, t.version, obj);
  if (quantityProblem) throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: ${quantityProblem}`);
  // Service ports must decode as int32 before their range can be checked.
  const scalarProblem = t.kind === 'Service' && !t.group ? scalarTypeProblem(t.kind, t.version, obj) : undefined;
  if (scalarProblem) throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: ${scalarProblem}`);
}

/** Secrets: stringData is write-only; it is merged into data, base64-encoded. */
function convertStringData(secret: KubeObject): void {
  if (!secret.stringData) return;
  secret.data = { ...(secret.data ?? {}) };
  for (const [k, v] of Object.entries(secret.stringData)) secret.data[k] = Buffer.from(String(v)).toString('base64');
  delete secret.stringData;
}

/** Ignore empty maps that clients add or drop (e.g. metadata.annotations: {}) when checking for no-op writes. */
function stripEmpty(obj: KubeObject): unknown {
  return JSON.parse(JSON.stringify(obj, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 ? undefined : v)));
}

export { ApiError };
