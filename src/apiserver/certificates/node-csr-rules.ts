// What makes a CSR a kubelet's, the checks kube's signers and approver share: a client
// certificate for system:node:<name> in system:nodes with no names, or a serving certificate
// for the same subject with DNS names or IPs. Each answer is the reason it is not, or ''.
import type { ParsedCertificateRequest } from '../../tls/certificate-requests.ts';

export const nodeUserPrefix = 'system:node:';
export const nodesGroup = 'system:nodes';

const sameSet = (a: string[], b: string[]) => a.length === b.length && b.every((x) => a.includes(x));

function subjectProblem(r: ParsedCertificateRequest): string {
  if (!sameSet(r.organizations, [nodesGroup])) return `subject organization is not ${nodesGroup}`;
  if (!r.commonName?.startsWith(nodeUserPrefix)) return `subject common name does not begin with ${nodeUserPrefix}`;
  return '';
}

function usagesProblem(usages: string[], purpose: 'client auth' | 'server auth'): string {
  const allowed = [['digital signature', purpose], ['digital signature', 'key encipherment', purpose]];
  return allowed.some((set) => sameSet(usages, set)) ? '' : `usages did not match ${JSON.stringify(allowed[0])} or ${JSON.stringify(allowed[1])}`;
}

/** Why this is not a kubelet client certificate request, or ''. */
export function kubeletClientProblem(r: ParsedCertificateRequest, usages: string[]): string {
  const subject = subjectProblem(r);
  if (subject) return subject;
  if (r.dnsNames.length || r.emailAddresses.length || r.ipAddresses.length || r.uris.length) {
    return 'dnsNames, emailAddresses, ipAddresses and uris are not allowed';
  }
  return usagesProblem(usages, 'client auth');
}

/** Why this is not a kubelet serving certificate request, or ''. */
export function kubeletServingProblem(r: ParsedCertificateRequest, usages: string[]): string {
  const subject = subjectProblem(r);
  if (subject) return subject;
  if (!r.dnsNames.length && !r.ipAddresses.length) return 'at least one DNS or IP subjectAltName is required';
  if (r.emailAddresses.length || r.uris.length) return 'emailAddresses and uris are not allowed';
  return usagesProblem(usages, 'server auth');
}
