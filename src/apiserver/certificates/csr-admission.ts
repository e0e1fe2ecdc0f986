// Admission for CSRs, kube-apiserver's CertificateApproval, CertificateSigning and
// CertificateSubjectRestriction plugins: approving a request needs the "approve" verb on its
// signer, issuing one the "sign" verb (resource "signers", name = signerName or
// "<domain>/*"), and nobody may ask the kube-apiserver-client signer for system:masters.
import type { Authorizer, UserInfo } from '../auth/attributes.ts';
import { forbiddenResource } from '../errors.ts';
import { certificatesGroup } from '../registry.ts';
import type { KubeObject } from '../store.ts';
import { apiserverClientSigner, requestPem } from './csr-objects.ts';
import { parseCertificateRequest } from '../../tls/certificate-requests.ts';

/** Throws 403 unless user may `verb` (approve | sign) requests of this CSR's signer. */
export function requireSignerPermission(authorizer: Authorizer, user: UserInfo, verb: 'approve' | 'sign', csr: KubeObject): void {
  const signerName = String(csr.spec?.signerName ?? '');
  const domainWildcard = `${signerName.split('/')[0]}/*`;
  const allowed = [signerName, domainWildcard].some((name) => authorizer.authorize({
    user, verb, resourceRequest: true, path: '', apiGroup: certificatesGroup, apiVersion: '*', resource: 'signers', subresource: '', namespace: '', name,
  }).decision === 'allow');
  if (!allowed) {
    throw forbiddenResource('certificatesigningrequests', certificatesGroup, csr.metadata.name, `user not permitted to ${verb} requests with signerName "${signerName}"`);
  }
}

/** Throws 403 for a kube-apiserver-client CSR that asks for the system:masters group. */
export function refuseMastersRequest(csr: KubeObject): void {
  if (csr.spec?.signerName !== apiserverClientSigner) return;
  let organizations: string[] = [];
  try {
    organizations = parseCertificateRequest(requestPem(csr)).organizations;
  } catch {
    return; // a malformed request is refused by validation, with its own message
  }
  if (organizations.includes('system:masters')) {
    throw forbiddenResource('certificatesigningrequests', certificatesGroup, csr.metadata?.name ?? '', `use of ${apiserverClientSigner} signer with system:masters group is not allowed`);
  }
}
