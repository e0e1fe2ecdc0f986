// CertificateSigningRequest rules, as kube-apiserver's registry applies them: who asked is
// stamped from the request's credentials (never from the body), the request must be a PEM CSR
// with a signer and usages, and after creation only approval (the approval subresource) and
// issuance (status) change it, each through its own door.
import type { UserInfo } from '../auth/attributes.ts';
import type { FieldError } from '../errors.ts';
import type { KubeObject } from '../store.ts';
import { MalformedCertificateRequest, parseCertificateRequest } from '../../tls/certificate-requests.ts';

/** The signers kube-controller-manager runs, and the one any client certificate for kube-apiserver uses. */
export const kubeletClientSigner = 'kubernetes.io/kube-apiserver-client-kubelet';
export const kubeletServingSigner = 'kubernetes.io/kubelet-serving';
export const apiserverClientSigner = 'kubernetes.io/kube-apiserver-client';

/** certificates.k8s.io/v1 KeyUsage values. */
const knownUsages = new Set([
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment', 'cert sign',
  'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing', 'email protection', 's/mime',
  'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing', 'microsoft sgc', 'netscape sgc',
]);
const conditionTypes = ['Approved', 'Denied', 'Failed'];
const minExpirationSeconds = 600;
const signerNamePattern = /^(?=.{1,571}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+\/[A-Za-z0-9._~%!$&'()*+,;=:@-]+$/;

/** The request as created: spec.username, uid, groups and extra are the caller's, whatever the body said. */
export function stampRequester(body: unknown, user: UserInfo): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const csr = structuredClone(body) as KubeObject;
  const spec = csr.spec !== null && typeof csr.spec === 'object' && !Array.isArray(csr.spec) ? csr.spec : {};
  csr.spec = { ...spec, username: user.name, groups: user.groups };
  if (user.uid) csr.spec.uid = user.uid;
  else delete csr.spec.uid;
  if (user.extra && Object.keys(user.extra).length) csr.spec.extra = user.extra;
  else delete csr.spec.extra;
  return csr;
}

/** The PEM the spec carries (spec.request is base64 in JSON, as []byte fields are). */
export function requestPem(csr: KubeObject): string {
  return Buffer.from(String(csr.spec?.request ?? ''), 'base64').toString('utf8');
}

export function prepareCsrForCreate(csr: KubeObject): void {
  // Status is the signer's and the approvers' to write.
  csr.status = {};
}

export function csrValidationErrors(csr: KubeObject): FieldError[] {
  const spec = csr.spec ?? {};
  const errors: FieldError[] = [];
  if (!spec.request) errors.push({ type: 'Required', field: 'spec.request', detail: '' });
  else {
    try {
      parseCertificateRequest(requestPem(csr));
    } catch (err) {
      if (!(err instanceof MalformedCertificateRequest)) throw err;
      errors.push({ type: 'Invalid', field: 'spec.request', detail: err.message, value: '<request>' });
    }
  }
  if (!spec.signerName) errors.push({ type: 'Required', field: 'spec.signerName', detail: '' });
  else if (!signerNamePattern.test(spec.signerName)) {
    errors.push({ type: 'Invalid', field: 'spec.signerName', value: spec.signerName, detail: 'must be a fully qualified domain and path of the form \'example.com/signer-name\'' });
  }
  const usages: unknown[] = Array.isArray(spec.usages) ? spec.usages : [];
  if (!usages.length) errors.push({ type: 'Required', field: 'spec.usages', detail: '' });
  const seen = new Set<string>();
  usages.forEach((u, i) => {
    if (typeof u !== 'string' || !knownUsages.has(u)) {
      errors.push({ type: 'Unsupported', field: `spec.usages[${i}]`, value: u, detail: `supported values: ${[...knownUsages].map((k) => `"${k}"`).join(', ')}` });
    } else if (seen.has(u)) errors.push({ type: 'Duplicate', field: `spec.usages[${i}]`, value: u, detail: '' });
    seen.add(String(u));
  });
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds !== null && !(Number(spec.expirationSeconds) >= minExpirationSeconds)) {
    errors.push({ type: 'Invalid', field: 'spec.expirationSeconds', value: spec.expirationSeconds, detail: `may not specify a duration less than ${minExpirationSeconds} seconds (10 minutes)` });
  }
  errors.push(...conditionErrors(csr.status?.conditions));
  return errors;
}

function conditionErrors(conditions: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const list: any[] = Array.isArray(conditions) ? conditions : [];
  const types = new Set<string>();
  list.forEach((c, i) => {
    const at = `status.conditions[${i}]`;
    if (!c?.type) errors.push({ type: 'Required', field: `${at}.type`, detail: '' });
    else if (types.has(c.type) && conditionTypes.includes(c.type)) errors.push({ type: 'Duplicate', field: `${at}.type`, value: c.type, detail: '' });
    if (!['True', 'False', 'Unknown'].includes(c?.status)) {
      errors.push({ type: 'Unsupported', field: `${at}.status`, value: c?.status ?? '', detail: 'supported values: "False", "True", "Unknown"' });
    }
    if (c?.type) types.add(c.type);
  });
  if (types.has('Approved') && types.has('Denied')) {
    errors.push({ type: 'Invalid', field: 'status.conditions', value: '', detail: 'Approved and Denied conditions are mutually exclusive' });
  }
  return errors;
}

/**
 * The object a write to a CSR leaves: the object itself may change only metadata; approval only
 * the Approved and Denied conditions; status only the rest of status (the signer's certificate
 * and Failed). Throws nothing: the caller validates the result with csrUpdateErrors.
 */
export function csrAfterUpdate(existing: KubeObject, incoming: KubeObject, subresource: string | undefined, now: string): KubeObject {
  const conditions = (o: KubeObject): any[] => (Array.isArray(o.status?.conditions) ? o.status.conditions : []);
  const stamped = (cs: any[]) => cs.map((c) => {
    const before = conditions(existing).find((o) => o.type === c.type);
    const transitioned = !before || before.status !== c.status;
    return { ...c, lastUpdateTime: c.lastUpdateTime ?? now, lastTransitionTime: transitioned ? c.lastTransitionTime ?? now : before.lastTransitionTime ?? now };
  });
  const isApproval = (c: any) => c?.type === 'Approved' || c?.type === 'Denied';
  if (subresource === 'approval') {
    return { ...existing, status: { ...existing.status, conditions: stamped([...conditions(existing).filter((c) => !isApproval(c)), ...conditions(incoming).filter(isApproval)]) } };
  }
  if (subresource === 'status') {
    const { conditions: _ignored, ...rest } = incoming.status ?? {};
    const next = { ...rest, conditions: stamped([...conditions(existing).filter(isApproval), ...conditions(incoming).filter((c) => !isApproval(c))]) };
    return { ...existing, status: next };
  }
  return { ...incoming, spec: existing.spec, status: existing.status };
}

/** What an update may not do: drop an approval decision, issue before approval, change a certificate. */
export function csrUpdateErrors(existing: KubeObject, next: KubeObject): FieldError[] {
  const errors = conditionErrors(next.status?.conditions);
  const had = (o: KubeObject, type: string) => (o.status?.conditions ?? []).some((c: any) => c.type === type);
  for (const type of conditionTypes) {
    if (had(existing, type) && !had(next, type)) {
      errors.push({ type: 'Forbidden', field: 'status.conditions', detail: `updates may not remove a condition of type "${type}"` });
    }
  }
  const before = existing.status?.certificate;
  const after = next.status?.certificate;
  if (before && after !== before) errors.push({ type: 'Forbidden', field: 'status.certificate', detail: 'updates may not modify existing certificate content' });
  if (!before && after && !had(next, 'Approved')) {
    errors.push({ type: 'Invalid', field: 'status.certificate', value: '<certificate data>', detail: 'certificate can only be set on approved requests' });
  }
  return errors;
}

export function isApproved(csr: KubeObject): boolean {
  return (csr.status?.conditions ?? []).some((c: any) => c.type === 'Approved' && c.status === 'True');
}

export function isDecided(csr: KubeObject): boolean {
  return (csr.status?.conditions ?? []).some((c: any) => (c.type === 'Approved' || c.type === 'Denied') && c.status === 'True');
}

export function hasFailed(csr: KubeObject): boolean {
  return (csr.status?.conditions ?? []).some((c: any) => c.type === 'Failed' && c.status === 'True');
}
