// ConfigMap and Secret contents as kube-apiserver validates them: every key is a config key
// (what a projected file or an environment variable may be named), a ConfigMap key lives in
// data or binaryData but not both, a Secret of a built-in type carries the keys that type needs,
// and a Secret's type never changes. Secret stringData is merged into data before this runs, so
// its keys are reported under data[...], as kube reports them.
import type { FieldError } from './errors.ts';
import type { KubeObject } from './store.ts';

const configKey = /^[-._a-zA-Z0-9]+$/;
const configKeyMessage =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const maxKeyLength = 253;

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const keysOf = (v: unknown) => (isMap(v) ? Object.keys(v) : []);

/** IsConfigMapKey: every reason the key is not one (none: it is). */
export function configKeyProblems(key: string): string[] {
  const problems: string[] = [];
  if (key.length > maxKeyLength) problems.push(`must be no more than ${maxKeyLength} characters`);
  if (!configKey.test(key)) problems.push(configKeyMessage);
  if (key === '.') problems.push("must not be '.'");
  else if (key === '..') problems.push("must not be '..'");
  else if (key.startsWith('..')) problems.push("must not start with '..'");
  return problems;
}

function keyErrors(field: string, bag: unknown): FieldError[] {
  return keysOf(bag).flatMap((key) => configKeyProblems(key).map((detail): FieldError => ({ type: 'Invalid', field: `${field}[${key}]`, value: key, detail })));
}

export function validateConfigMap(cm: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const binary = new Set(keysOf(cm.binaryData));
  for (const key of keysOf(cm.data)) {
    errors.push(...keyErrors('data', { [key]: '' }));
    if (binary.has(key)) errors.push({ type: 'Invalid', field: `data[${key}]`, value: key, detail: 'duplicate of key present in binaryData' });
  }
  errors.push(...keyErrors('binaryData', cm.binaryData));
  return errors;
}

/** The keys each built-in Secret type must carry in data. */
const requiredKeys: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};
const jsonKeys: Record<string, string> = { 'kubernetes.io/dockercfg': '.dockercfg', 'kubernetes.io/dockerconfigjson': '.dockerconfigjson' };

export function validateSecret(secret: KubeObject): FieldError[] {
  const errors = keyErrors('data', secret.data);
  const data = isMap(secret.data) ? secret.data : {};
  const type = String(secret.type ?? '');
  const required = (key: string): FieldError => ({ type: 'Required', field: `data[${key}]`, detail: '' });
  switch (type) {
    case 'kubernetes.io/service-account-token':
      // The token itself is the token controller's to add; the account's name is the creator's.
      if (!secret.metadata.annotations?.['kubernetes.io/service-account.name']) {
        errors.push({ type: 'Required', field: 'metadata.annotations[kubernetes.io/service-account.name]', detail: '' });
      }
      break;
    case 'kubernetes.io/basic-auth':
      if (!('username' in data) && !('password' in data)) errors.push(required('username'), required('password'));
      break;
    case 'kubernetes.io/ssh-auth':
      if (!data['ssh-privatekey']) errors.push(required('ssh-privatekey'));
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const key = jsonKeys[type]!;
      if (!(key in data)) {
        errors.push(required(key));
        break;
      }
      const problem = jsonObjectProblem(Buffer.from(String(data[key] ?? ''), 'base64').toString('utf8'));
      if (problem) errors.push({ type: 'Invalid', field: `data[${key}]`, value: '<secret contents redacted>', detail: problem });
      break;
    }
    default:
      for (const key of requiredKeys[type] ?? []) if (!(key in data)) errors.push(required(key));
  }
  return errors;
}

/** Go's json.Unmarshal error for a document that is not a JSON object (null unmarshals fine). */
function jsonObjectProblem(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const first = text.trimStart()[0];
    if (first === undefined) return 'unexpected end of JSON input';
    if (!'{["-0123456789tfn'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
    return 'unexpected end of JSON input';
  }
  if (parsed === null || isMap(parsed)) return undefined;
  const kind = Array.isArray(parsed) ? 'array' : typeof parsed === 'boolean' ? 'bool' : typeof parsed;
  return `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`;
}

/** A Secret's type is fixed at creation. */
export function secretUpdateErrors(before: KubeObject, after: KubeObject): FieldError[] {
  if ((before.type ?? '') === (after.type ?? '')) return [];
  return [{ type: 'Invalid', field: 'type', value: after.type ?? '', detail: 'field is immutable' }];
}
