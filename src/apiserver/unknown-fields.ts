// fieldValidation, as kube-apiserver applies it to a write: fields the type does not have are an
// error under Strict (what kubectl asks for by default), a Warning header under Warn (the default
// for other clients), and nothing under Ignore. The fields a type has are read from the models
// @kubernetes/client-node generates from the Kubernetes OpenAPI definitions.
import type { ServerResponse } from 'node:http';
import { badRequest } from './errors.ts';
import type { ResourceType } from './registry.ts';
import { modelNamed, modelOf, type ModelClass } from './wire-times.ts';

/** Paths of the fields in `obj` that its kind's model does not declare, as kube prints them. */
export function unknownFields(kind: string, version: string, obj: unknown): string[] {
  const model = modelOf(kind, version);
  return model ? unknownFieldsIn(model, obj) : [];
}

/** Paths of the fields in `obj` that a generated model (V1Pod, AuthenticationV1TokenRequest, ...) does not declare. */
export function unknownFieldsIn(model: ModelClass, obj: unknown): string[] {
  if (!isObject(obj)) return [];
  const found: string[] = [];
  walk(model, obj, '', found, 0);
  return found;
}

function walk(model: ModelClass, obj: Record<string, unknown>, path: string, found: string[], depth: number): void {
  const attrs = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, value] of Object.entries(obj)) {
    // Strategic-merge directives ($patch, $setElementOrder/..., $retainKeys) are not fields.
    if (key.startsWith('$')) continue;
    const at = path ? `${path}.${key}` : key;
    const type = attrs.get(key);
    if (type === undefined) found.push(at);
    else visit(value, type, at, found, depth + 1);
  }
}

function visit(value: unknown, type: string, path: string, found: string[], depth: number): void {
  if (value === null || value === undefined || depth > 16) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => visit(v, array[1]!, `${path}[${i}]`, found, depth + 1));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isObject(value)) for (const [k, v] of Object.entries(value)) visit(v, map[1]!, `${path}.${k}`, found, depth + 1);
    return;
  }
  const model = modelNamed(type);
  if (model && isObject(value)) walk(model, value, path, found, depth);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Applies the request's fieldValidation to a write body (an object, or a merge patch of one). */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function enforceFieldValidation(res: ServerResponse, type: ResourceType, body: unknown, query: URLSearchParams, byDefault: FieldValidation = 'Warn'): void {
  const mode = (query.get('fieldValidation') || byDefault).toLowerCase();
  if (mode === 'ignore') return;
  if (mode !== 'warn' && mode !== 'strict') throw badRequest(`fieldValidation parameter unsupported: ${query.get('fieldValidation')}`);
  const unknown = unknownFields(type.kind, type.version, body);
  if (unknown.length === 0) return;
  if (mode === 'strict') {
    throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  }
  res.setHeader('Warning', unknown.map((f) => `299 - ${JSON.stringify(`unknown field "${f}"`)}`));
}
