// The three patch formats kube-apiserver accepts: JSON merge patch (RFC 7386), strategic
// merge patch (lists merged by their patchMergeKey, with $patch directives), and JSON patch
// (RFC 6902, via fast-json-patch).
import jsonpatch from 'fast-json-patch';
import { ApiError, badRequest } from './errors.ts';
import { listStrategy } from './patch-strategies.ts';
import type { KubeObject } from './store.ts';

type Json = any;

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

export function applyStrategicMergePatch(kind: string, target: KubeObject, patch: Json): KubeObject {
  if (!isObject(patch)) throw badRequest('strategic merge patch must be a JSON object');
  return mergeMap(kind, '', target, patch) as KubeObject;
}

function mergeMap(kind: string, path: string, target: Json, patch: Record<string, Json>): Json {
  const directive = patch.$patch;
  if (directive === 'replace') return stripDirectives(patch);
  if (directive === 'delete') return undefined;
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  const retainKeys = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : undefined;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(value)) out[field] = out[field].filter((x: Json) => !value.includes(x));
      continue;
    }
    const childPath = path ? `${path}.${key}` : key;
    if (value === null) {
      delete out[key];
    } else if (Array.isArray(value)) {
      const strategy = listStrategy(kind, childPath);
      out[key] = strategy ? mergeList(kind, childPath, out[key], value, strategy.mergeKey) : stripDirectives(value);
    } else if (isObject(value)) {
      const merged = mergeMap(kind, childPath, out[key], value);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else {
      out[key] = value;
    }
  }
  if (retainKeys) for (const k of Object.keys(out)) if (!retainKeys.includes(k)) delete out[k];
  return out;
}

function mergeList(kind: string, path: string, target: Json, patch: Json[], mergeKey: string | undefined): Json[] {
  const current: Json[] = Array.isArray(target) ? [...target] : [];
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return stripDirectives(patch.filter((p) => !(isObject(p) && p.$patch === 'replace')));
  }
  if (!mergeKey) {
    // A list of scalars with the merge strategy is a set union, in order.
    for (const v of patch) if (!current.some((c) => JSON.stringify(c) === JSON.stringify(v))) current.push(v);
    return current;
  }
  for (const item of patch) {
    if (!isObject(item)) throw badRequest(`${path}: elements of a list merged by ${mergeKey} must be objects`);
    const at = current.findIndex((c) => isObject(c) && c[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (at >= 0) current.splice(at, 1);
    } else if (at >= 0) {
      current[at] = mergeMap(kind, path, current[at], item);
    } else {
      current.push(mergeMap(kind, path, {}, item));
    }
  }
  return current;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripDirectives(v);
  return out;
}

export function applyJsonPatch(target: KubeObject, operations: Json): KubeObject {
  if (!Array.isArray(operations)) throw badRequest('json patch must be a JSON array of operations');
  try {
    return jsonpatch.applyPatch(structuredClone(target), operations, true, false).newDocument as KubeObject;
  } catch (err) {
    // kube-apiserver answers a failing "test" operation or a missing path with 422 Invalid.
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);
  }
}

export type PatchType = 'merge' | 'strategic' | 'json';

export function patchTypeOf(contentType: string): PatchType | undefined {
  const base = contentType.split(';')[0].trim().toLowerCase();
  if (base === 'application/merge-patch+json') return 'merge';
  if (base === 'application/strategic-merge-patch+json') return 'strategic';
  if (base === 'application/json-patch+json') return 'json';
  return undefined;
}

export function applyPatch(type: PatchType, kind: string, target: KubeObject, patch: Json): KubeObject {
  switch (type) {
    case 'merge':
      if (!isObject(patch)) throw badRequest('merge patch must be a JSON object');
      return applyMergePatch(target, patch);
    case 'strategic': return applyStrategicMergePatch(kind, target, patch);
    case 'json': return applyJsonPatch(target, patch);
  }
}
