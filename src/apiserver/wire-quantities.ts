// Quantities as kube-apiserver decodes them: a resource.Quantity field (requests, limits, a node's
// capacity, an emptyDir sizeLimit, ...) takes a JSON string or number that apimachinery's parser
// reads, or null; anything else fails decoding, before any validation, with the parser's error.
// The generated models type these fields as plain strings, so which they are is listed here.
import { quantityValueProblem } from '../pod/quantity.ts';
import { modelNamed, modelOf, type ModelClass } from './wire-times.ts';

/** Quantity fields of the models (OpenAPI's io.k8s.apimachinery.pkg.api.resource.Quantity), by model:
 * each a Quantity or a map of them, as the attribute's type says. */
export const quantityFields: Readonly<Record<string, readonly string[]>> = {
  V1ResourceRequirements: ['limits', 'requests'],
  V1VolumeResourceRequirements: ['limits', 'requests'],
  V1NodeStatus: ['capacity', 'allocatable'],
  V1ContainerStatus: ['allocatedResources'],
  V1PodSpec: ['overhead'],
  V1EmptyDirVolumeSource: ['sizeLimit'],
  V1ResourceFieldSelector: ['divisor'],
  V1PersistentVolumeSpec: ['capacity'],
  V1PersistentVolumeClaimStatus: ['capacity', 'allocatedResources'],
  V1ResourceQuotaSpec: ['hard'],
  V1ResourceQuotaStatus: ['hard', 'used'],
  V1LimitRangeItem: ['default', 'defaultRequest', 'max', 'maxLimitRequestRatio', 'min'],
  V1CSIStorageCapacity: ['capacity', 'maximumVolumeSize'],
};

const MAP = /^\{ \[key: string\]: (.+); \}$/;
const ARRAY = /^Array<(.+)>$/;

function check(value: unknown, type: string, quantity: boolean, depth: number): string | undefined {
  if (value === undefined || value === null || depth > 12) return undefined;
  if (quantity) {
    // A map of quantities (a ResourceList) or one quantity; a map of the wrong shape is left to the shape checks.
    if (!MAP.test(type)) return quantityValueProblem(value);
    if (typeof value !== 'object' || Array.isArray(value)) return undefined;
    for (const v of Object.values(value)) {
      const problem = quantityValueProblem(v);
      if (problem) return problem;
    }
    return undefined;
  }
  const array = ARRAY.exec(type);
  if (array) {
    if (!Array.isArray(value)) return undefined;
    for (const v of value) {
      const problem = check(v, array[1]!, false, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  const map = MAP.exec(type);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) return undefined;
    for (const v of Object.values(value)) {
      const problem = check(v, map[1]!, false, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  const model = modelNamed(type);
  if (!model || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return walk(type, model, value as Record<string, unknown>, depth + 1);
}

function walk(name: string, model: ModelClass, obj: Record<string, unknown>, depth: number): string | undefined {
  const quantities = quantityFields[name] ?? [];
  for (const a of model.getAttributeTypeMap()) {
    const problem = check(obj[a.baseName], a.type, quantities.includes(a.baseName), depth);
    if (problem) return problem;
  }
  return undefined;
}

/** The first Quantity of `obj` kube-apiserver would not decode, as its parser words it; undefined: all fine. */
export function quantityFormatProblem(kind: string, version: string, obj: Record<string, unknown>): string | undefined {
  const v = version.charAt(0).toUpperCase() + version.slice(1);
  const name = modelNamed(`${v}${kind}`) ? `${v}${kind}` : `Core${v}${kind}`;
  const model = modelOf(kind, version);
  return model ? walk(name, model, obj, 0) : undefined;
}
