// The API's format rules for what a client sends, checked one request at a time: the body (an
// object, or a patch resolved against the kind) decodes against the @kubernetes/client-node model
// of its kind with no unknown fields and no value of the wrong JSON type; every Time is RFC 3339
// in whole seconds, UTC ("2026-12-03T16:47:26Z", as metav1.Time marshals); every MicroTime has
// exactly six fraction digits ("2026-12-03T16:47:26.394000Z"); every Quantity is in the canonical
// form kube-apiserver writes back ("1" not "1000m", "1Mi" not "1024Ki"), and a Node's byte
// resources are BinarySI as the kubelet writes them ("1Gi" not "1073741824"); a PATCH names a
// patch type kube-apiserver accepts for the resource. Which fields are times comes from the models
// (wire-times.ts); which are quantities from the table below, since the models type them as string.
import YAML from 'yaml';
import { ApiError, patchMediaTypes } from '../../src/apiserver/errors.ts';
import { apiVersionOf } from '../../src/apiserver/registry.ts';
import { parseResourcePath, type ResourceRoute } from '../../src/apiserver/routes.ts';
import { unknownFieldsIn } from '../../src/apiserver/unknown-fields.ts';
import { modelNamed, timeFormatProblemIn, timeTypeOf, type ModelClass } from '../../src/apiserver/wire-times.ts';
import { quantityFields } from '../../src/apiserver/wire-quantities.ts';
import { canonicalQuantity, canonicalQuantityAs } from '../../src/pod/quantity-canonical.ts';

export type WireRule = 'path' | 'content-type' | 'decode' | 'kind' | 'unknown-field' | 'time' | 'micro-time' | 'quantity';

export interface WireProblem {
  rule: WireRule;
  /** The field (metadata.name, status.capacity.memory, [2].value, ...), empty for the request as a whole. */
  field: string;
  message: string;
}

export interface WireRequest {
  method: string;
  /** The request target: path and query. */
  path: string;
  contentType: string;
  body: Buffer | string;
}

export interface WireVerdict {
  /** "PATCH nodes/status", "POST serviceaccounts/token", ... */
  call: string;
  /** The kind the body was read as: "v1 Pod", "authentication.k8s.io/v1 TokenRequest", "v1 DeleteOptions". */
  kind?: string;
  problems: WireProblem[];
}

// Quantity fields of the models, kept with the API server's decode checks; checked against the
// models when this module loads.
for (const [name, fields] of Object.entries(quantityFields)) {
  const attrs = modelNamed(name)?.getAttributeTypeMap().map((a) => a.baseName);
  for (const f of fields) if (!attrs?.includes(f)) throw new Error(`wire-rules: ${name}.${f} is not in @kubernetes/client-node's models`);
}

/** Node resources the kubelet writes in BinarySI (resource.NewQuantity(bytes, BinarySI)). */
const isByteResource = (name: string) => name === 'memory' || name === 'ephemeral-storage' || name === 'storage' || name.startsWith('hugepages-');

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The patch types kube-apiserver's PATCH handler takes for a built-in kind (CBOR apply is behind a gate). */
export const builtInPatchTypes = patchMediaTypes;
const bodyTypes = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

/** Bodies of subresources that are not the resource's own kind. */
const subresourceKinds: Record<string, { apiVersion: string; kind: string }> = {
  'serviceaccounts/token': { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest' },
  'pods/binding': { apiVersion: 'v1', kind: 'Binding' },
  'pods/eviction': { apiVersion: 'policy/v1', kind: 'Eviction' },
};

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** client-node's model of a kind: V1Pod, CoreV1Event, AuthenticationV1TokenRequest, EventsV1Event, ... */
export function modelNameFor(apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') as [string, string] : ['', apiVersion];
  const v = capitalize(version);
  const names = group ? [`${capitalize(group.split('.')[0]!)}${v}${kind}`, `${v}${kind}`] : [`${v}${kind}`, `Core${v}${kind}`];
  return names.find((n) => modelNamed(n));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** Checks a value against a model attribute's type; `quantity` says it is a Quantity (or a map of them). */
function checkValue(value: unknown, type: string, path: string, out: WireProblem[], quantity: { node: boolean } | undefined, depth: number): void {
  if (value === null || value === undefined || depth > 40) return; // null: absent, or a patch's removal
  const decode = (want: string): void => {
    out.push({ rule: 'decode', field: path, message: `json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type ${want}` });
  };
  const timeType = timeTypeOf(type);
  if (timeType) {
    if (typeof value !== 'string') return decode('string');
    if (timeType === 'Time' && !TIME.test(value)) {
      out.push({ rule: 'time', field: path, message: `a Time is RFC 3339 in whole seconds, UTC (2026-12-03T16:47:26Z); got ${JSON.stringify(value)}` });
    }
    if (timeType === 'MicroTime' && !MICRO_TIME.test(value)) {
      out.push({ rule: 'micro-time', field: path, message: `a MicroTime has exactly six fraction digits, UTC (2026-12-03T16:47:26.394000Z); got ${JSON.stringify(value)}` });
    }
    return;
  }
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return decode(`[]${array[1]}`);
    value.forEach((v, i) => checkValue(v, array[1]!, `${path}[${i}]`, out, quantity, depth + 1));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (!isObject(value)) return decode(`map[string]${map[1]}`);
    for (const [k, v] of Object.entries(value)) {
      checkValue(v, map[1]!, join(path, k), out, quantity && { node: quantity.node && isByteResource(k) }, depth + 1);
    }
    return;
  }
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return decode('string');
      if (quantity) checkQuantity(value, path, out, quantity.node);
      return;
    case 'number':
      if (typeof value !== 'number') return decode('number');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') return decode('bool');
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) return decode('intstr.IntOrString');
      return;
    case 'any':
      return;
  }
  const model = modelNamed(type);
  if (!model) return;
  if (!isObject(value)) return decode(type);
  checkFields(type, model, value, path, out, depth + 1);
}

function checkFields(name: string, model: ModelClass, obj: Record<string, unknown>, path: string, out: WireProblem[], depth: number): void {
  for (const a of model.getAttributeTypeMap()) {
    if (!(a.baseName in obj)) continue;
    const quantity = quantityFields[name]?.includes(a.baseName) ? { node: name === 'V1NodeStatus' } : undefined;
    checkValue(obj[a.baseName], a.type, join(path, a.baseName), out, quantity, depth);
  }
}

function checkQuantity(value: string, path: string, out: WireProblem[], nodeBytes: boolean): void {
  let canonical: string;
  try {
    canonical = canonicalQuantity(value);
  } catch {
    out.push({ rule: 'quantity', field: path, message: `${JSON.stringify(value)} is not a quantity` });
    return;
  }
  if (canonical !== value) {
    out.push({ rule: 'quantity', field: path, message: `quantity not in canonical form: kube-apiserver writes ${JSON.stringify(value)} as ${JSON.stringify(canonical)}` });
    return;
  }
  const binary = nodeBytes ? canonicalQuantityAs(value, 'BinarySI') : value;
  if (binary !== value) {
    out.push({ rule: 'quantity', field: path, message: `a node's bytes are BinarySI, as the kubelet writes them: ${JSON.stringify(binary)}, not ${JSON.stringify(value)}` });
  }
}

/** Every problem with `obj` as an object (or, with `patch`, a merge or strategic patch) of the model. */
export function checkObject(modelName: string, obj: unknown, opts: { patch?: boolean } = {}): WireProblem[] {
  const model = modelNamed(modelName);
  if (!model) return [{ rule: 'kind', field: '', message: `no client-node model ${modelName}` }];
  if (!isObject(obj)) return [{ rule: 'decode', field: '', message: `the body is not a JSON object` }];
  const out: WireProblem[] = [];
  for (const field of unknownFieldsIn(model, obj)) out.push({ rule: 'unknown-field', field, message: `unknown field "${field}"` });
  const refused = timeFormatProblemIn(model, obj);
  if (refused) out.push({ rule: 'decode', field: '', message: `kube-apiserver refuses it: ${refused}` });
  checkFields(modelName, model, obj, '', out, 0);
  if (!opts.patch) {
    // Strategic merge directives are patch syntax only.
    const directive = JSON.stringify(obj).match(/"(\$(?:patch|retainKeys|setElementOrder\/[^"]*|deleteFromPrimitiveList\/[^"]*))":/);
    if (directive) out.push({ rule: 'decode', field: '', message: `${directive[1]} in an object that is not a strategic merge patch` });
  }
  return out;
}

/** A JSON patch (RFC 6902): each operation's path must name a field of the kind, and its value fit it. */
export function checkJsonPatch(modelName: string, ops: unknown): WireProblem[] {
  if (!Array.isArray(ops)) return [{ rule: 'decode', field: '', message: 'a JSON patch is an array of operations' }];
  const out: WireProblem[] = [];
  ops.forEach((op, i) => {
    const at = `[${i}]`;
    if (!isObject(op) || typeof op.path !== 'string' || !['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(String(op.op))) {
      out.push({ rule: 'decode', field: at, message: `not a JSON patch operation: ${JSON.stringify(op)}` });
      return;
    }
    const target = resolvePointer(modelName, op.path);
    if (typeof target === 'string') {
      out.push({ rule: 'unknown-field', field: at, message: `${op.path}: ${target}` });
      return;
    }
    if (['add', 'replace', 'test'].includes(String(op.op))) {
      const problems: WireProblem[] = [];
      if (target.type === '$object') problems.push(...checkObject(modelName, op.value));
      else {
        const model = modelNamed(target.type);
        if (model && isObject(op.value)) for (const f of unknownFieldsIn(model, op.value)) problems.push({ rule: 'unknown-field', field: f, message: `unknown field "${f}"` });
        checkValue(op.value, target.type, '', problems, target.quantity, 0);
      }
      for (const p of problems) out.push({ ...p, field: `${at}.value${p.field ? `.${p.field}` : ''} (${op.path})` });
    }
  });
  return out;
}

/** The type a JSON pointer names in the kind, or why it names none. */
function resolvePointer(modelName: string, pointer: string): { type: string; quantity?: { node: boolean } } | string {
  if (pointer === '') return { type: '$object' };
  if (!pointer.startsWith('/')) return 'a JSON pointer starts with "/"';
  let type = modelName;
  let quantity: { node: boolean } | undefined;
  let owner = modelName;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const array = /^Array<(.+)>$/.exec(type);
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (array) {
      if (seg !== '-' && !/^(0|[1-9]\d*)$/.test(seg)) return `"${seg}" is not an index of a list`;
      type = array[1]!;
    } else if (map) {
      type = map[1]!;
      if (quantity) quantity = { node: quantity.node && isByteResource(seg) };
    } else {
      const attr = modelNamed(type)?.getAttributeTypeMap().find((a) => a.baseName === seg);
      if (!attr) return `${type} has no field "${seg}"`;
      owner = type;
      quantity = quantityFields[owner]?.includes(seg) ? { node: owner === 'V1NodeStatus' } : undefined;
      type = attr.type;
    }
  }
  return { type, quantity };
}

const mediaOf = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase();

function describeCall(method: string, route: ResourceRoute | undefined): string {
  if (!route) return method;
  return `${method} ${route.type.plural}${route.subresource ? `/${route.subresource}` : ''}${route.type.group ? `.${route.type.group}` : ''}`;
}

/** Checks one request a client sent: its body against the kind its URL and method name. */
export function checkRequest(req: WireRequest): WireVerdict {
  const method = req.method.toUpperCase();
  const url = new URL(req.path, 'https://apiserver');
  const problems: WireProblem[] = [];
  let route: ResourceRoute | undefined;
  try {
    route = parseResourcePath(url.pathname);
  } catch (err) {
    problems.push({ rule: 'path', field: '', message: `${url.pathname}: ${err instanceof ApiError ? err.message : String(err)}` });
  }
  const call = describeCall(method, route);
  const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : req.body;
  if (!route || !text.trim() || method === 'GET') {
    if (!route && !problems.length) problems.push({ rule: 'path', field: '', message: `${url.pathname} is no resource URL` });
    return { call, problems };
  }
  const media = mediaOf(req.contentType);
  let expected: { apiVersion: string; kind: string };
  if (method === 'DELETE') expected = { apiVersion: 'v1', kind: 'DeleteOptions' };
  else expected = subresourceKinds[`${route.type.plural}/${route.subresource}`] ?? { apiVersion: apiVersionOf(route.type), kind: route.type.kind };
  const kind = `${expected.apiVersion} ${expected.kind}`;
  const modelName = modelNameFor(expected.apiVersion, expected.kind);
  if (!modelName) return { call, kind, problems: [...problems, { rule: 'kind', field: '', message: `no client-node model for ${kind}` }] };

  if (method === 'PATCH') {
    if (!builtInPatchTypes.includes(media)) {
      problems.push({ rule: 'content-type', field: '', message: `${req.contentType || '(none)'} is no patch type kube-apiserver takes; it takes ${builtInPatchTypes.join(', ')}` });
      return { call, kind, problems };
    }
  } else if (!bodyTypes.includes(media)) {
    problems.push({ rule: 'content-type', field: '', message: `${req.contentType || '(none)'} is no body type kube-apiserver decodes; it takes ${bodyTypes.join(', ')}` });
    return { call, kind, problems };
  }
  if (media === 'application/vnd.kubernetes.protobuf') return { call, kind, problems }; // not decoded here

  let body: unknown;
  try {
    body = media.endsWith('yaml') ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    return { call, kind, problems: [...problems, { rule: 'decode', field: '', message: `the body does not parse: ${(err as Error).message.split('\n')[0]}` }] };
  }
  if (media === 'application/json-patch+json') return { call, kind, problems: [...problems, ...checkJsonPatch(modelName, body)] };

  const patch = media === 'application/merge-patch+json' || media === 'application/strategic-merge-patch+json';
  if (isObject(body)) {
    const { apiVersion, kind: bodyKind } = body;
    const needed = media === 'application/apply-patch+yaml';
    if (needed && (!apiVersion || !bodyKind)) problems.push({ rule: 'kind', field: '', message: 'an apply patch names its apiVersion and kind' });
    if (apiVersion !== undefined && apiVersion !== expected.apiVersion && !(expected.kind === 'DeleteOptions' && apiVersion === 'meta.k8s.io/v1')) {
      problems.push({ rule: 'kind', field: 'apiVersion', message: `the body's apiVersion ${JSON.stringify(apiVersion)} is not the URL's ${JSON.stringify(expected.apiVersion)}` });
    }
    if (bodyKind !== undefined && bodyKind !== expected.kind) {
      problems.push({ rule: 'kind', field: 'kind', message: `the body's kind ${JSON.stringify(bodyKind)} is not the URL's ${JSON.stringify(expected.kind)}` });
    }
  }
  problems.push(...checkObject(modelName, body, { patch }));
  return { call, kind, problems };
}
