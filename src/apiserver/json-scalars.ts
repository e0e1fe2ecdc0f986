// Scalar fields decoded as strictly as kube-apiserver's JSON decoder does: a string where the
// Go field is an int32 (a Service port "80"), a fraction or an out-of-range number for an
// integer, a number for a string, fail decoding with a 400 before any validation. Which field
// has which type (and which are int-or-string) is read from the models @kubernetes/client-node
// generates from the Kubernetes OpenAPI definitions.
import { modelNamed, modelOf, type ModelClass } from './wire-times.ts';

interface Attribute { baseName: string; type: string; format: string }

const ranges: Record<string, [number, number]> = { int32: [-(2 ** 31), 2 ** 31 - 1], int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER] };

/** Go's name for the JSON kind of a value, as its unmarshal errors say it. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** The Go struct a generated model stands for: V1ServicePort → ServicePort. */
const structName = (modelName: string) => modelName.replace(/^(Core)?V\d+((alpha|beta)\d+)?/, '');

/** Go's error for `value` in a field of scalar `type`/`format`, or undefined when it decodes. */
function scalarProblem(value: unknown, type: string, format: string): { value: string; goType: string } | undefined {
  if (value === null || value === undefined) return undefined;
  if (type === 'IntOrString') {
    if (typeof value === 'string') return undefined;
    return scalarProblem(value, 'number', 'int32');
  }
  if (type === 'number') {
    const goType = format === 'int32' || format === 'int64' ? format : 'float64';
    if (typeof value !== 'number') return { value: jsonKind(value), goType };
    const range = ranges[goType];
    if (range && (!Number.isInteger(value) || value < range[0] || value > range[1])) return { value: `number ${value}`, goType };
    return undefined;
  }
  if (type === 'boolean') return typeof value === 'boolean' ? undefined : { value: jsonKind(value), goType: 'bool' };
  if (type === 'string') return typeof value === 'string' ? undefined : { value: jsonKind(value), goType: 'string' };
  return undefined;
}

function walk(model: ModelClass, modelName: string, obj: Record<string, unknown>, path: string[], depth: number): string | undefined {
  if (depth > 16) return undefined;
  for (const a of model.getAttributeTypeMap() as Attribute[]) {
    const found = visit(obj[a.baseName], a, modelName, [...path, a.baseName], depth);
    if (found) return found;
  }
  return undefined;
}

function visit(value: unknown, a: Pick<Attribute, 'type' | 'format'>, owner: string, path: string[], depth: number): string | undefined {
  if (value === null || value === undefined) return undefined;
  const problem = scalarProblem(value, a.type, a.format);
  if (problem) return `json: cannot unmarshal ${problem.value} into Go struct field ${structName(owner)}.${path.join('.')} of type ${problem.goType}`;
  const array = /^Array<(.+)>$/.exec(a.type);
  if (array) {
    if (!Array.isArray(value)) return undefined;
    for (const item of value) {
      const found = visit(item, { type: array[1]!, format: '' }, owner, path, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(a.type);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) return undefined;
    for (const item of Object.values(value as Record<string, unknown>)) {
      const found = visit(item, { type: map[1]!, format: '' }, owner, path, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  const model = modelNamed(a.type);
  if (!model || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return walk(model, a.type, value as Record<string, unknown>, path, depth + 1);
}

/** The first scalar field of `obj` its kind's Go types would not decode, as the decoder says it; undefined: all fine. */
export function scalarTypeProblem(kind: string, version: string, obj: Record<string, unknown>): string | undefined {
  const model = modelOf(kind, version);
  if (!model) return undefined;
  const name = `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
  return walk(model, name, obj, [], 0);
}
