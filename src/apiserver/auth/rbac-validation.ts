// Defaults and validation of Role, ClusterRole, RoleBinding and ClusterRoleBinding, as
// kube-apiserver applies them: RBAC names are path segments (so "system:node" is valid),
// rules need verbs and either resources or non-resource URLs, bindings need a roleRef of a
// supported kind that never changes, and subjects of a known kind.
import type { FieldError } from '../errors.ts';
import { pathSegmentNameProblem } from '../names.ts';
import { rbacGroup, type ResourceType } from '../registry.ts';
import type { KubeObject } from '../store.ts';

const isRbac = (t: ResourceType) => t.group === rbacGroup;
const isBinding = (t: ResourceType) => isRbac(t) && (t.kind === 'RoleBinding' || t.kind === 'ClusterRoleBinding');
const isRole = (t: ResourceType) => isRbac(t) && (t.kind === 'Role' || t.kind === 'ClusterRole');

const supported = (values: string[]) => `supported values: ${values.map((v) => JSON.stringify(v)).join(', ')}`;

/** Fills the apiGroups kube defaults: roleRef.apiGroup, and User/Group subjects' apiGroup. */
export function defaultRbacObject(t: ResourceType, obj: KubeObject): void {
  if (!isBinding(t)) return;
  if (obj.roleRef && typeof obj.roleRef === 'object' && !obj.roleRef.apiGroup) obj.roleRef.apiGroup = rbacGroup;
  for (const s of Array.isArray(obj.subjects) ? obj.subjects : []) {
    if (s && typeof s === 'object' && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = rbacGroup;
  }
}

function ruleErrors(rule: any, namespaced: boolean, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const len = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  for (const k of ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs']) {
    const v = rule?.[k];
    if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((e) => typeof e !== 'string'))) {
      errors.push({ type: 'Invalid', field: `${path}.${k}`, value: v, detail: 'must be a list of strings' });
    }
  }
  if (errors.length) return errors;
  if (len(rule?.verbs) === 0) errors.push({ type: 'Required', field: `${path}.verbs`, detail: 'verbs must contain at least one value' });
  if (len(rule?.nonResourceURLs) > 0) {
    if (namespaced) errors.push({ type: 'Invalid', field: `${path}.nonResourceURLs`, value: rule.nonResourceURLs, detail: 'namespaced rules cannot apply to non-resource URLs' });
    if (len(rule.apiGroups) > 0 || len(rule.resources) > 0 || len(rule.resourceNames) > 0) {
      errors.push({ type: 'Invalid', field: `${path}.nonResourceURLs`, value: rule.nonResourceURLs, detail: 'rules cannot apply to both regular resources and non-resource URLs' });
    }
    return errors;
  }
  if (len(rule?.apiGroups) === 0) errors.push({ type: 'Required', field: `${path}.apiGroups`, detail: 'resource rules must supply at least one api group' });
  if (len(rule?.resources) === 0) errors.push({ type: 'Required', field: `${path}.resources`, detail: 'resource rules must supply at least one resource' });
  return errors;
}

function subjectErrors(s: any, namespaced: boolean, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!s?.name) errors.push({ type: 'Required', field: `${path}.name`, detail: '' });
  switch (s?.kind) {
    case 'ServiceAccount':
      if (s.apiGroup) errors.push({ type: 'Unsupported', field: `${path}.apiGroup`, value: s.apiGroup, detail: supported(['']) });
      if (!namespaced && !s.namespace) errors.push({ type: 'Required', field: `${path}.namespace`, detail: '' });
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== rbacGroup) errors.push({ type: 'Unsupported', field: `${path}.apiGroup`, value: s.apiGroup ?? '', detail: supported([rbacGroup]) });
      break;
    default:
      errors.push({ type: 'Unsupported', field: `${path}.kind`, value: s?.kind ?? '', detail: supported(['ServiceAccount', 'User', 'Group']) });
  }
  return errors;
}

function bindingErrors(t: ResourceType, obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const ref = obj.roleRef ?? {};
  if (ref.apiGroup !== rbacGroup) errors.push({ type: 'Unsupported', field: 'roleRef.apiGroup', value: ref.apiGroup ?? '', detail: supported([rbacGroup]) });
  const kinds = t.namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errors.push({ type: 'Unsupported', field: 'roleRef.kind', value: ref.kind ?? '', detail: supported(kinds) });
  if (!ref.name) errors.push({ type: 'Required', field: 'roleRef.name', detail: '' });
  else {
    const problem = pathSegmentNameProblem(String(ref.name));
    if (problem) errors.push({ type: 'Invalid', field: 'roleRef.name', value: ref.name, detail: problem });
  }
  if (obj.subjects !== undefined && obj.subjects !== null && !Array.isArray(obj.subjects)) {
    errors.push({ type: 'Invalid', field: 'subjects', value: obj.subjects, detail: 'must be a list of subjects' });
  }
  const subjects = Array.isArray(obj.subjects) ? obj.subjects : [];
  subjects.forEach((s, i) => errors.push(...subjectErrors(s, t.namespaced, `subjects[${i}]`)));
  return errors;
}

/** Validation errors of an RBAC object (none for other kinds); existing is the stored object on update. */
export function rbacValidationErrors(t: ResourceType, obj: KubeObject, existing?: KubeObject): FieldError[] {
  if (isRole(t)) {
    if (obj.rules !== undefined && obj.rules !== null && !Array.isArray(obj.rules)) {
      return [{ type: 'Invalid', field: 'rules', value: obj.rules, detail: 'must be a list of rules' }];
    }
    const rules = Array.isArray(obj.rules) ? obj.rules : [];
    return rules.flatMap((r, i) => ruleErrors(r, t.namespaced, `rules[${i}]`));
  }
  if (!isBinding(t)) return [];
  const errors = bindingErrors(t, obj);
  if (existing) {
    const [a, b] = [existing.roleRef ?? {}, obj.roleRef ?? {}];
    if (a.apiGroup !== b.apiGroup || a.kind !== b.kind || a.name !== b.name) {
      errors.push({ type: 'Invalid', field: 'roleRef', value: obj.roleRef, detail: 'cannot change roleRef' });
    }
  }
  return errors;
}
