// PersistentVolumes and PersistentVolumeClaims as kube-apiserver's registry takes them: the
// defaults its strategy and SetDefaults functions fill in, and the basic validation (access
// modes, capacity or request, exactly one volume source, what may change after creation),
// with kube's field paths and messages.
import { isDeepStrictEqual } from 'node:util';
import { parseQuantity } from '../pod/quantity.ts';
import { badRequest, type FieldError } from './errors.ts';
import type { KubeObject } from './store.ts';

export const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const reclaimPolicies = ['Delete', 'Recycle', 'Retain'];
const volumeModes = ['Block', 'Filesystem'];
const hostPathTypes = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

/** The volume sources a PersistentVolume may name, in the order kube checks them. */
const volumeSources = ['hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'glusterfs', 'flocker', 'nfs', 'rbd', 'quobyte',
  'cephfs', 'iscsi', 'cinder', 'fc', 'flexVolume', 'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume',
  'azureDisk', 'scaleIO', 'local', 'storageos', 'csi'];

const quoted = (list: string[]) => list.map((v) => JSON.stringify(v)).join(', ');

/** A quantity's value; a malformed one fails decoding in kube, a 400 before any validation. */
export function storageBytes(quantity: unknown, what: string): number {
  try {
    return parseQuantity(String(quantity));
  } catch {
    throw badRequest(`${what}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  }
}

/** PersistentVolume defaults and its status at creation (the controller moves it on from Pending). */
export function defaultPersistentVolume(pv: KubeObject, now: string): void {
  const spec = (pv.spec ??= {});
  spec.persistentVolumeReclaimPolicy ||= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  if (spec.hostPath) spec.hostPath.type ??= '';
  pv.status = { phase: 'Pending', lastPhaseTransitionTime: now };
}

export function defaultPersistentVolumeClaim(pvc: KubeObject): void {
  const spec = (pvc.spec ??= {});
  spec.volumeMode ??= 'Filesystem';
  pvc.status = { phase: 'Pending' };
}

function accessModeErrors(modes: unknown, field: string, requiredDetail: string): FieldError[] {
  const list: unknown[] = Array.isArray(modes) ? modes : [];
  const errors: FieldError[] = [];
  if (list.length === 0) errors.push({ type: 'Required', field, detail: requiredDetail });
  for (const m of list) {
    if (!accessModes.includes(String(m))) errors.push({ type: 'Unsupported', field, value: m, detail: `supported values: ${quoted(accessModes)}` });
  }
  if (list.includes('ReadWriteOncePod') && list.some((m) => m !== 'ReadWriteOncePod' && accessModes.includes(String(m)))) {
    errors.push({ type: 'Forbidden', field, detail: 'may not use ReadWriteOncePod with other access modes' });
  }
  return errors;
}

function positiveQuantity(value: unknown, field: string): FieldError[] {
  return storageBytes(value, field) > 0 ? [] : [{ type: 'Invalid', field, value: String(value), detail: 'must be greater than zero' }];
}

export function validatePersistentVolume(pv: KubeObject): FieldError[] {
  const spec = pv.spec ?? {};
  const errors = accessModeErrors(spec.accessModes, 'spec.accessModes', '');
  const capacity = spec.capacity ?? {};
  if (Object.keys(capacity).length === 0) errors.push({ type: 'Required', field: 'spec.capacity', detail: '' });
  if (capacity.storage === undefined || Object.keys(capacity).length > 1) {
    errors.push({ type: 'Unsupported', field: 'spec.capacity', value: capacity, detail: 'supported values: "storage"' });
  }
  for (const [k, v] of Object.entries(capacity)) errors.push(...positiveQuantity(v, `spec.capacity[${k}]`));
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy && !reclaimPolicies.includes(policy)) {
    errors.push({ type: 'Unsupported', field: 'spec.persistentVolumeReclaimPolicy', value: policy, detail: `supported values: ${quoted(reclaimPolicies)}` });
  }
  const sources = volumeSources.filter((s) => spec[s] !== undefined && spec[s] !== null);
  if (sources.length === 0) errors.push({ type: 'Required', field: 'spec', detail: 'must specify a volume type' });
  for (const extra of sources.slice(1)) errors.push({ type: 'Forbidden', field: `spec.${extra}`, detail: 'may not specify more than 1 volume type' });
  if (sources[0] === 'hostPath') errors.push(...hostPathErrors(spec.hostPath, 'spec.hostPath'));
  if (sources[0] === 'local') {
    if (!spec.local?.path) errors.push({ type: 'Required', field: 'spec.local.path', detail: '' });
    if (!spec.nodeAffinity) errors.push({ type: 'Required', field: 'spec.nodeAffinity', detail: 'Local volume requires node affinity' });
  }
  if (spec.volumeMode !== undefined && !volumeModes.includes(spec.volumeMode)) {
    errors.push({ type: 'Unsupported', field: 'spec.volumeMode', value: spec.volumeMode, detail: `supported values: ${quoted(volumeModes)}` });
  }
  return errors;
}

function hostPathErrors(hostPath: any, field: string): FieldError[] {
  const errors: FieldError[] = [];
  const path = String(hostPath?.path ?? '');
  if (!path) errors.push({ type: 'Required', field: `${field}.path`, detail: '' });
  else if (path.split('/').includes('..')) errors.push({ type: 'Invalid', field: `${field}.path`, value: path, detail: "must not contain '..'" });
  const type = hostPath?.type ?? '';
  if (!hostPathTypes.includes(type)) errors.push({ type: 'Unsupported', field: `${field}.type`, value: type, detail: `supported values: ${quoted(hostPathTypes)}` });
  return errors;
}

export function validatePersistentVolumeClaim(pvc: KubeObject): FieldError[] {
  const spec = pvc.spec ?? {};
  const errors = accessModeErrors(spec.accessModes, 'spec.accessModes', 'at least 1 access mode is required');
  const request = spec.resources?.requests?.storage;
  if (request === undefined) errors.push({ type: 'Required', field: 'spec.resources[storage]', detail: '' });
  else errors.push(...positiveQuantity(request, 'spec.resources[storage]'));
  if (spec.volumeMode !== undefined && !volumeModes.includes(spec.volumeMode)) {
    errors.push({ type: 'Unsupported', field: 'spec.volumeMode', value: spec.volumeMode, detail: `supported values: ${quoted(volumeModes)}` });
  }
  return errors;
}

/** A PersistentVolume's source never changes after creation. */
export function persistentVolumeUpdateErrors(before: KubeObject, after: KubeObject): FieldError[] {
  const source = (pv: KubeObject) => volumeSources.map((s) => pv.spec?.[s] ?? null);
  if (isDeepStrictEqual(source(before), source(after))) return [];
  return [{ type: 'Forbidden', field: 'spec.persistentvolumesource', detail: 'spec.persistentvolumesource is immutable after creation' }];
}

/** A claim's spec is fixed once made, except that volumeName may be set once and the storage request may grow. */
export function persistentVolumeClaimUpdateErrors(before: KubeObject, after: KubeObject): FieldError[] {
  const comparable = (spec: any, volumeName: unknown) => {
    const copy = structuredClone(spec ?? {});
    if (!before.spec?.volumeName) copy.volumeName = volumeName;
    if (copy.resources?.requests) delete copy.resources.requests.storage;
    return copy;
  };
  const errors: FieldError[] = [];
  if (!isDeepStrictEqual(comparable(before.spec, after.spec?.volumeName), comparable(after.spec, after.spec?.volumeName))) {
    errors.push({ type: 'Forbidden', field: 'spec', detail: 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' });
  }
  const oldSize = before.spec?.resources?.requests?.storage;
  const newSize = after.spec?.resources?.requests?.storage;
  if (oldSize !== undefined && newSize !== undefined && storageBytes(newSize, 'spec.resources[storage]') < storageBytes(oldSize, 'spec.resources[storage]')) {
    errors.push({ type: 'Forbidden', field: 'spec.resources.requests.storage', detail: 'field can not be less than previous value' });
  }
  return errors;
}

/** kubectl's short form of access modes: RWO,ROX,RWX,RWOP in that order, each once. */
export function accessModesShort(modes: unknown): string {
  const list: unknown[] = Array.isArray(modes) ? modes : [];
  const short: Array<[string, string]> = [['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP']];
  return short.filter(([m]) => list.includes(m)).map(([, s]) => s).join(',');
}

/** The storage class of a PV or PVC: the beta annotation wins over spec.storageClassName, as kube's helpers read it. */
export function storageClassOf(obj: KubeObject): string {
  const annotated = obj.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (annotated !== undefined) return annotated;
  return obj.spec?.storageClassName ?? '';
}
