// The Node authorizer (kube-apiserver's --authorization-mode=Node, with its 1.32 default of
// authorizing node reads by selectors): a kubelet, user system:node:<name> in group
// system:nodes, reaches secrets, configmaps, claims, volumes and service-account tokens only
// through the pods bound to it, reads only its own Node, lists pods only with
// spec.nodeName=<itself>, and otherwise gets what the node rules grant. It never denies: what
// it does not allow passes on (to RBAC) with its reason.
import type { ObjectStore } from '../store.ts';
import type { AuthorizationResult, Authorizer, RequestAttributes, UserInfo } from './attributes.ts';
import { nodeRules } from './bootstrap-policy.ts';
import { nodeReaches, type GraphKind } from './node-graph.ts';
import { rulesAllow } from './rbac-rules.ts';

export const nodesGroup = 'system:nodes';
export const nodeUserPrefix = 'system:node:';
export const nodeLeaseNamespace = 'kube-node-lease';

/** The node a user is (kube's default node identifier); isNode with an empty name is a node not told apart. */
export function nodeIdentity(user: UserInfo): { isNode: boolean; nodeName: string } {
  if (!user.name.startsWith(nodeUserPrefix) || !user.groups.includes(nodesGroup)) return { isNode: false, nodeName: '' };
  return { isNode: true, nodeName: user.name.slice(nodeUserPrefix.length) };
}

const allow: AuthorizationResult = { decision: 'allow', reason: '' };
const pass = (reason = ''): AuthorizationResult => ({ decision: 'noOpinion', reason });

export function createNodeAuthorizer(store: ObjectStore): Authorizer {
  const noRelationship = (node: string) => pass(`no relationship found between node '${node}' and this object`);

  /** The graph question itself, for a named object. */
  const related = (node: string, kind: GraphKind, a: RequestAttributes): AuthorizationResult => {
    if (!a.name) return pass('No Object name found');
    return nodeReaches(store, node, kind, a.namespace, a.name) ? allow : noRelationship(node);
  };

  const getOnly = (node: string, kind: GraphKind, a: RequestAttributes): AuthorizationResult => {
    if (a.verb !== 'get') return pass('can only get individual resources of this type');
    if (a.subresource) return pass('cannot get subresource');
    return related(node, kind, a);
  };

  const readNamespaced = (node: string, kind: GraphKind, a: RequestAttributes): AuthorizationResult => {
    if (!['get', 'list', 'watch'].includes(a.verb)) return pass('can only read resources of this type');
    if (a.subresource) return pass('cannot read subresource');
    if (!a.namespace) return pass('can only read namespaced object of this type');
    return related(node, kind, a);
  };

  const claimStatus = (node: string, a: RequestAttributes): AuthorizationResult => {
    if (a.verb !== 'update' && a.verb !== 'patch') return pass('can only get/update/patch this type');
    return related(node, 'persistentvolumeclaim', a);
  };

  const serviceAccountToken = (node: string, a: RequestAttributes): AuthorizationResult => {
    if (a.verb !== 'create' || !a.name) return pass('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return pass('can only create token subresource of serviceaccount');
    return nodeReaches(store, node, 'serviceaccount', a.namespace, a.name) ? allow : noRelationship(node);
  };

  const lease = (node: string, a: RequestAttributes): AuthorizationResult => {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return pass('can only get, create, update, patch, or delete a node lease');
    if (a.namespace !== nodeLeaseNamespace) return pass(`can only access leases in the "${nodeLeaseNamespace}" system namespace`);
    // A create's name is in its body: NodeRestriction admission checks it.
    if (a.verb !== 'create' && a.name !== node) return pass('can only access node lease with the same name as the requesting node');
    return allow;
  };

  const nodeObject = (node: string, a: RequestAttributes): AuthorizationResult => {
    if (a.subresource === '') {
      // Writes are allowed here; NodeRestriction admission limits them to the node's own object.
      if (['create', 'update', 'patch'].includes(a.verb)) return allow;
      if (['get', 'list', 'watch'].includes(a.verb)) {
        if (a.name === node) return allow;
        if (a.name === '') return pass(`node '${node}' cannot read all nodes, only its own Node object`);
        return pass(`node '${node}' cannot read '${a.name}', only its own Node object`);
      }
    } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) {
      return allow;
    }
    return pass();
  };

  const pod = (node: string, a: RequestAttributes): AuthorizationResult => {
    switch (a.subresource) {
      case '':
        if (a.verb === 'get') return getOnly(node, 'pod', a);
        if (a.verb === 'list' || a.verb === 'watch') {
          if ((a.fieldSelector ?? []).some((r) => r.field === 'spec.nodeName' && !r.negate && r.value === node)) return allow;
          if (a.name) return related(node, 'pod', a);
          return pass('can only list/watch pods with spec.nodeName field selector');
        }
        // Mirror pods; NodeRestriction admission limits them to pods bound to the node.
        if (a.verb === 'create' || a.verb === 'delete') return allow;
        break;
      case 'status':
        if (a.verb === 'update' || a.verb === 'patch') return allow;
        break;
      case 'eviction':
        if (a.verb === 'create') return allow;
        break;
    }
    return pass();
  };

  return {
    authorize(a: RequestAttributes): AuthorizationResult {
      const { isNode, nodeName } = nodeIdentity(a.user);
      if (!isNode) return pass();
      if (!nodeName) return pass(`unknown node for user "${a.user.name}"`);
      if (a.resourceRequest) {
        const resource = `${a.apiGroup}/${a.resource}`;
        switch (resource) {
          case '/secrets': return readNamespaced(nodeName, 'secret', a);
          case '/configmaps': return readNamespaced(nodeName, 'configmap', a);
          case '/persistentvolumeclaims': return a.subresource === 'status' ? claimStatus(nodeName, a) : getOnly(nodeName, 'persistentvolumeclaim', a);
          case '/persistentvolumes': return getOnly(nodeName, 'persistentvolume', a);
          case '/serviceaccounts': return serviceAccountToken(nodeName, a);
          case 'coordination.k8s.io/leases': return lease(nodeName, a);
          case '/nodes': return nodeObject(nodeName, a);
          case '/pods': return pod(nodeName, a);
        }
      }
      return rulesAllow(a, nodeRules) ? allow : pass();
    },
  };
}
