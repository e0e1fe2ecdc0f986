// Label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors (=, ==, !=)
// parsed from query strings; a malformed selector is a 400 BadRequest as in kube-apiserver.
import { badRequest } from './errors.ts';
import type { KubeObject } from './store.ts';

type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' };

export type LabelSelector = Requirement[];

export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  const requirements: LabelSelector = [];
  if (!text || !text.trim()) return requirements;
  for (const term of splitTopLevel(text)) {
    const t = term.trim();
    if (!t) throw badRequest(`unable to parse requirement: found '', expected: identifier`);
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3].split(',').map((v) => v.trim());
      requirements.push({ key: checkKey(m[1]), op: m[2] as 'in' | 'notin', values });
    } else if ((m = t.match(/^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/))) {
      const key = checkKey(m[1]);
      requirements.push({ key, op: m[2] === '!=' ? 'notin' : 'in', values: [checkValue(m[3])] });
    } else if ((m = t.match(/^!\s*([^\s!=(),]+)$/))) {
      requirements.push({ key: checkKey(m[1]), op: '!exists' });
    } else if ((m = t.match(/^([^\s!=(),]+)$/))) {
      requirements.push({ key: checkKey(m[1]), op: 'exists' });
    } else {
      throw badRequest(`unable to parse requirement: ${t}`);
    }
  }
  return requirements;
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists': return has;
      case '!exists': return !has;
      case 'in': return has && r.values.includes(l[r.key]);
      case 'notin': return !has || !r.values.includes(l[r.key]);
    }
  });
}

export interface FieldRequirement { field: string; negate: boolean; value: string }

/** Parses a field selector, allowing only the fields the resource supports. */
export function parseFieldSelector(text: string | null | undefined, allowed: string[]): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  if (!text || !text.trim()) return out;
  for (const term of text.split(',')) {
    const m = term.trim().match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1].trim();
    if (!allowed.includes(field)) throw badRequest(`field label not supported: ${field}`);
    out.push({ field, negate: m[2] === '!=', value: m[3].trim() });
  }
  return out;
}

export function matchesFields(selector: FieldRequirement[], obj: KubeObject): boolean {
  return selector.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}

/** The string a field selector compares: missing fields are "", booleans "true"/"false". */
export function fieldValue(obj: KubeObject, path: string): string {
  if (path === 'name') return String(obj.metadata.name ?? '');
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) {
    // Kube's field sets render unset booleans as "false" (spec.hostNetwork, spec.unschedulable).
    return path === 'spec.hostNetwork' || path === 'spec.unschedulable' ? 'false' : '';
  }
  if (path === 'source' && typeof cur === 'object') return String((cur as { component?: string }).component ?? '');
  return String(cur);
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

const qualifiedName = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string): string {
  if (!qualifiedName.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}"`);
  return key;
}

function checkValue(value: string): string {
  if (!labelValue.test(value) || value.length > 63) throw badRequest(`unable to parse requirement: invalid label value: "${value}"`);
  return value;
}
