// The time formats kube-apiserver decodes, checked as strictly as it checks them: a MicroTime
// (Lease renewTime, Event eventTime, ...) is RFC 3339 with exactly six fraction digits; a Time
// (status.startTime, conditions, ...) is RFC 3339. Which fields are which is read from the models
// @kubernetes/client-node generates from the Kubernetes OpenAPI definitions, not from a list kept here.
import * as models from '@kubernetes/client-node';

const MICRO_LAYOUT = '2006-01-02T15:04:05.000000Z07:00';
const TIME_LAYOUT = '2006-01-02T15:04:05Z07:00';
const MICRO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const DATE_PREFIX = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;

interface AttributeType { name: string; baseName: string; type: string; format: string }
export type ModelClass = { getAttributeTypeMap(): AttributeType[] };

const byName = models as unknown as Record<string, ModelClass | undefined>;
export const modelNamed = (name: string): ModelClass | undefined => (typeof byName[name]?.getAttributeTypeMap === 'function' ? byName[name] : undefined);

/** The generated model of a kind: V1Lease, V1Pod, CoreV1Event, ... */
export function modelOf(kind: string, version: string): ModelClass | undefined {
  const v = version.charAt(0).toUpperCase() + version.slice(1);
  return modelNamed(`${v}${kind}`) ?? modelNamed(`Core${v}${kind}`);
}

/** Go's error for a value its time layout does not take (the part it could not match first). */
function goParseError(value: string, layout: string): string {
  if (!DATE_PREFIX.test(value)) return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(value)} as "2006"`;
  const rest = value.slice(19);
  const expected = layout === MICRO_LAYOUT ? '.000000' : 'Z07:00';
  return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(expected)}`;
}

/** Which of the API's time types a model attribute's type is: client-node types a MicroTime as
 * "V1MicroTime" and a Time (OpenAPI format date-time) as "Date". */
export function timeTypeOf(type: string): 'MicroTime' | 'Time' | undefined {
  return type === 'V1MicroTime' ? 'MicroTime' : type === 'Date' ? 'Time' : undefined;
}

function check(value: unknown, type: string, path: string, depth: number): string | undefined {
  if (value === undefined || value === null || depth > 12) return undefined;
  const timeType = timeTypeOf(type);
  if (timeType) {
    const micro = timeType === 'MicroTime';
    if (typeof value !== 'string') return `json: cannot unmarshal ${typeof value} into Go struct field ${path} of type string`;
    if (!(micro ? MICRO : TIME).test(value)) return goParseError(value, micro ? MICRO_LAYOUT : TIME_LAYOUT);
    return undefined;
  }
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? firstOf(value.map((v, i) => check(v, array[1]!, `${path}[${i}]`, depth + 1))) : undefined;
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return typeof value === 'object' ? firstOf(Object.entries(value).map(([k, v]) => check(v, map[1]!, `${path}.${k}`, depth + 1))) : undefined;
  const model = modelNamed(type);
  if (!model || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return walk(model, value as Record<string, unknown>, path, depth + 1);
}

function walk(model: ModelClass, obj: Record<string, unknown>, path: string, depth: number): string | undefined {
  for (const a of model.getAttributeTypeMap()) {
    const problem = check(obj[a.baseName], a.type, path ? `${path}.${a.baseName}` : a.baseName, depth);
    if (problem) return problem;
  }
  return undefined;
}

const firstOf = (xs: Array<string | undefined>) => xs.find((x) => x !== undefined);

/** The first time field of `obj` that kube-apiserver would not decode, as its error says it; undefined: all fine. */
export function timeFormatProblem(kind: string, version: string, obj: Record<string, unknown>): string | undefined {
  const model = modelOf(kind, version);
  return model ? walk(model, obj, '', 0) : undefined;
}

/** timeFormatProblem against a generated model chosen by the caller (e.g. AuthenticationV1TokenRequest). */
export function timeFormatProblemIn(model: ModelClass, obj: Record<string, unknown>): string | undefined {
  return walk(model, obj, '', 0);
}
