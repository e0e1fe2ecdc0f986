// Does a pod's nodeSelector and required node affinity match this node?
import type { V1Node, V1NodeSelectorRequirement, V1NodeSelectorTerm, V1Pod } from '@kubernetes/client-node';

function requirementMatches(req: V1NodeSelectorRequirement, values: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(values, req.key);
  const value = values[req.key];
  const wanted = req.values ?? [];
  switch (req.operator) {
    case 'In': return has && wanted.includes(value);
    case 'NotIn': return !has || !wanted.includes(value);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || wanted.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(wanted[0])) return false;
      return req.operator === 'Gt' ? Number(value) > Number(wanted[0]) : Number(value) < Number(wanted[0]);
    }
    default: return false;
  }
}

function termMatches(term: V1NodeSelectorTerm, labels: Record<string, string>, fields: Record<string, string>): boolean {
  const exprs = term.matchExpressions ?? [];
  const fieldExprs = term.matchFields ?? [];
  // An empty term selects nothing.
  if (!exprs.length && !fieldExprs.length) return false;
  return exprs.every((r) => requirementMatches(r, labels)) && fieldExprs.every((r) => requirementMatches(r, fields));
}

export function podMatchesNode(pod: V1Pod, node: V1Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    if (labels[k] !== v) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  const fields = { 'metadata.name': node.metadata?.name ?? '' };
  // Terms are ORed; the requirements inside one term are ANDed.
  return (required.nodeSelectorTerms ?? []).some((t) => termMatches(t, labels, fields));
}
