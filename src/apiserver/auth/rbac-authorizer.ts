// The RBAC authorizer: the ClusterRoleBindings, then (for namespaced requests) the
// RoleBindings of the request's namespace, that name the user; the first rule of a bound role
// that covers the request allows it. Read from the store on every call, so a binding counts
// from the moment it is created. Reasons are kube's: "RBAC: allowed by ..." on allow, and on
// no opinion the roles that could not be resolved (empty when there were none).
import { rbacGroup, resourceKey, resourceTypes, type ResourceType } from '../registry.ts';
import type { KubeObject, ObjectStore } from '../store.ts';
import type { AuthorizationResult, Authorizer, RequestAttributes, UserInfo } from './attributes.ts';
import { ruleAllows, type PolicyRule } from './rbac-rules.ts';

export interface Subject { kind: string; name: string; namespace?: string; apiGroup?: string }
export interface RoleRef { apiGroup?: string; kind: string; name: string }

const rbacType = (plural: string): ResourceType => resourceTypes.find((t) => t.group === rbacGroup && t.plural === plural)!;
const roleKey = resourceKey(rbacType('roles'));
const roleBindingKey = resourceKey(rbacType('rolebindings'));
const clusterRoleKey = resourceKey(rbacType('clusterroles'));
const clusterRoleBindingKey = resourceKey(rbacType('clusterrolebindings'));

export const serviceAccountUserPrefix = 'system:serviceaccount:';

/**
 * Whether a binding subject names the user. A ServiceAccount subject without a namespace
 * means the binding's own namespace (none for a ClusterRoleBinding: it then names no one).
 */
export function subjectAppliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== '' && user.name === `${serviceAccountUserPrefix}${namespace}:${subject.name}`;
    }
    default:
      return false;
  }
}

function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') return `ServiceAccount "${subject.name}/${subject.namespace || bindingNamespace}"`;
  return `${subject.kind} "${subject.name}"`;
}

type Resolved = { rules: PolicyRule[] } | { error: string };

function resolveRoleRef(store: ObjectStore, ref: RoleRef | undefined, bindingNamespace: string): Resolved {
  const name = ref?.name ?? '';
  switch (ref?.kind) {
    case 'Role': {
      const role = store.get(roleKey, bindingNamespace, name);
      return role ? { rules: rulesOf(role) } : { error: `role.${rbacGroup} "${name}" not found` };
    }
    case 'ClusterRole': {
      const role = store.get(clusterRoleKey, '', name);
      return role ? { rules: rulesOf(role) } : { error: `clusterrole.${rbacGroup} "${name}" not found` };
    }
    default:
      return { error: `unsupported role reference kind: "${ref?.kind ?? ''}"` };
  }
}

function rulesOf(role: KubeObject): PolicyRule[] {
  return Array.isArray(role.rules) ? role.rules : [];
}

/** Go's aggregate error text: one message as is, several distinct ones bracketed. */
function aggregate(errors: string[]): string {
  const distinct = [...new Set(errors)];
  return distinct.length === 1 ? distinct[0] : `[${distinct.join(', ')}]`;
}

export function createRbacAuthorizer(store: ObjectStore): Authorizer {
  return {
    authorize(attrs: RequestAttributes): AuthorizationResult {
      const errors: string[] = [];
      const visit = (binding: KubeObject, bindingKind: string, namespace: string): string | undefined => {
        const subjects: Subject[] = Array.isArray(binding.subjects) ? binding.subjects : [];
        const subject = subjects.find((s) => s && subjectAppliesTo(attrs.user, s, namespace));
        if (!subject) return undefined;
        const resolved = resolveRoleRef(store, binding.roleRef, namespace);
        if ('error' in resolved) {
          errors.push(resolved.error);
          return undefined;
        }
        if (!resolved.rules.some((r) => ruleAllows(attrs, r))) return undefined;
        const bindingName = namespace ? `${binding.metadata.name}/${namespace}` : binding.metadata.name;
        return `RBAC: allowed by ${bindingKind} "${bindingName}" of ${binding.roleRef.kind} "${binding.roleRef.name}" to ${describeSubject(subject, namespace)}`;
      };

      for (const binding of store.list(clusterRoleBindingKey)) {
        const reason = visit(binding, 'ClusterRoleBinding', '');
        if (reason) return { decision: 'allow', reason };
      }
      if (attrs.namespace) {
        for (const binding of store.list(roleBindingKey, attrs.namespace)) {
          const reason = visit(binding, 'RoleBinding', attrs.namespace);
          if (reason) return { decision: 'allow', reason };
        }
      }
      return { decision: 'noOpinion', reason: errors.length ? `RBAC: ${aggregate(errors)}` : '' };
    },
  };
}
