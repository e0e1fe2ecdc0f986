// Whether one RBAC PolicyRule covers a request, as kube's RBAC authorizer matches rules:
// "*" wildcards for verbs, groups and resources, "*/<subresource>", resourceNames, and
// nonResourceURLs with a trailing "*" as a prefix match.
import type { RequestAttributes } from './attributes.ts';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const all = '*';

/** A rule's list field; stored rules are validated, this only keeps a bad one from throwing. */
const list = (v: unknown): string[] => (Array.isArray(v) ? v : []);

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return list(rule.verbs).some((v) => v === all || v === verb);
}

function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return list(rule.apiGroups).some((g) => g === all || g === group);
}

/** combined is "pods" or "pods/log"; a rule "*\/log" covers any resource's log subresource. */
function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  return list(rule.resources).some((r) => r === all || r === combined || (subresource !== '' && r === `*/${subresource}`));
}

/** A rule without resourceNames covers every name; with them, only those (never a collection). */
function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = list(rule.resourceNames);
  return names.length === 0 || names.includes(name);
}

function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return list(rule.nonResourceURLs).some((u) => u === all || u === path || (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))));
}

export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, attrs.verb)) return false;
  if (!attrs.resourceRequest) return nonResourceURLMatches(rule, attrs.path);
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  return apiGroupMatches(rule, attrs.apiGroup) && resourceMatches(rule, combined, attrs.subresource) && resourceNameMatches(rule, attrs.name);
}

export function rulesAllow(attrs: RequestAttributes, rules: readonly PolicyRule[]): boolean {
  return rules.some((r) => ruleAllows(attrs, r));
}
