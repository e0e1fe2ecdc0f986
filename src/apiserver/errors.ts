// Errors as kube-apiserver reports them: a metav1.Status body with its reason and HTTP code,
// so kubectl prints "Error from server (NotFound): ..." exactly as against a real cluster.

export interface StatusCause { reason: string; message: string; field?: string }

export interface StatusDetails { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[] }

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: StatusDetails) {
    super(message);
  }

  toStatus(): Status {
    const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) status.details = this.details;
    return status;
  }
}

/** "pods" for the core group, "leases.coordination.k8s.io" otherwise, as kube-apiserver names resources in messages. */
export function qualifiedResource(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

export function notFound(plural: string, group: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(plural, group)} "${name}" not found`, { name, group: group || undefined, kind: plural });
}

export function alreadyExists(plural: string, group: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(plural, group)} "${name}" already exists`, { name, group: group || undefined, kind: plural });
}

export function conflict(plural: string, group: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(plural, group)} "${name}": ${why}`, { name, group: group || undefined, kind: plural });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function unknownResource(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml${contentType ? ` (got ${contentType})` : ''}`);
}

/** The patch types kube-apiserver's PATCH handler takes for a built-in kind, in its order (installer.go). */
export const patchMediaTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

/** 415 for a PATCH whose Content-Type is no patch type, worded as kube-apiserver's negotiation error. */
export function unsupportedPatchType(): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${patchMediaTypes.join(', ')}`);
}

export function gone(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export interface FieldError {
  type: 'Required' | 'Invalid' | 'Forbidden' | 'Unsupported' | 'Duplicate' | 'NotFound'; field: string; detail: string; value?: unknown;
  /** The value as Go's %#v prints it where JSON would differ (e.g. []string{"a"}); printed as is. */
  shown?: string;
}

const causeReason: Record<FieldError['type'], string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  Forbidden: 'FieldValueForbidden',
  Unsupported: 'FieldValueNotSupported',
  Duplicate: 'FieldValueDuplicate',
  NotFound: 'FieldValueNotFound',
};

function describeFieldError(e: FieldError): string {
  // As kube's field errors: an empty detail leaves no trailing ": ".
  const detail = e.detail ? `: ${e.detail}` : '';
  switch (e.type) {
    case 'Required': return `Required value${detail}`;
    case 'Invalid': return `Invalid value: ${e.shown ?? JSON.stringify(e.value)}${detail}`;
    case 'Forbidden': return `Forbidden${detail}`;
    case 'Unsupported': return `Unsupported value: ${e.shown ?? JSON.stringify(e.value)}${detail}`;
    case 'Duplicate': return `Duplicate value: ${e.shown ?? JSON.stringify(e.value)}`;
    case 'NotFound': return `Not found: ${e.shown ?? JSON.stringify(e.value)}`;
  }
}

/** 422 Invalid, listing each field as a cause, like kube-apiserver's validation errors. */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const causes = errors.map((e) => ({ reason: causeReason[e.type], message: describeFieldError(e), field: e.field }));
  const summary = causes.map((c) => `${c.field}: ${c.message}`);
  const joined = summary.length === 1 ? summary[0] : `[${summary.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${joined}`, { name, group: group || undefined, kind, causes });
}

export function forbidden(message: string): ApiError {
  return new ApiError(403, 'Forbidden', message);
}

/** 403 about one resource, as apierrors.NewForbidden: `pods "x" is forbidden: <why>` with details {name, group, kind}. */
export function forbiddenResource(plural: string, group: string, name: string, why: string): ApiError {
  const what = plural ? `${qualifiedResource(plural, group)}${name ? ` "${name}"` : ''} is forbidden` : 'forbidden';
  return new ApiError(403, 'Forbidden', `${what}: ${why}`, { name: name || undefined, group: group || undefined, kind: plural || undefined });
}

export function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
}
