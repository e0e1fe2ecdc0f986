// What authentication hands to authorization: who asks (UserInfo) and what they ask for
// (RequestAttributes, kube-apiserver's RequestInfo), and what an authorizer answers.
// Authorizers are tried in order; the first allow or deny wins, no opinion passes on.

import type { FieldRequirement } from '../selectors.ts';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface RequestAttributes {
  user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection; for non-resource URLs the lower-case method. */
  verb: string;
  /** false for non-resource URLs (/healthz, /api, /version, ...). */
  resourceRequest: boolean;
  /** The URL path, for non-resource requests. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  /** Plural resource name ("pods"); empty for non-resource requests. */
  resource: string;
  /** "status", "log", "proxy", "token", ...; empty for the object itself. */
  subresource: string;
  /** Empty for cluster-scoped requests and cross-namespace lists. */
  namespace: string;
  /** Empty for collections. */
  name: string;
  /**
   * The parsed ?fieldSelector= of a list or watch (kube's GetFieldSelector): the Node authorizer
   * lets a node list pods only with spec.nodeName=<itself>. Absent or empty: no selector.
   */
  fieldSelector?: FieldRequirement[];
}

export type AuthorizationDecision = 'allow' | 'deny' | 'noOpinion';

export interface AuthorizationResult {
  decision: AuthorizationDecision;
  /** Why, as kube's authorizers put it; appended to a 403's message when not empty. */
  reason: string;
}

export interface Authorizer {
  authorize(attributes: RequestAttributes): AuthorizationResult;
}
