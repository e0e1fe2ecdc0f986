// kube-controller-manager's csrsigning controller for the signers it runs: an approved request
// to kubernetes.io/kube-apiserver-client-kubelet, kubernetes.io/kubelet-serving or
// kubernetes.io/kube-apiserver-client is issued from the cluster CA (status.certificate), valid
// for --cluster-signing-duration or the request's expirationSeconds, whichever is shorter. A
// request its signer must not issue gets a Failed condition saying why.
import type { Logger } from 'pino';
import { ApiError } from '../errors.ts';
import { certificatesGroup, resourceKey, resourceTypes } from '../registry.ts';
import type { ResourceService } from '../resources.ts';
import type { KubeObject, StoreEvent } from '../store.ts';
import type { CertificateAuthority, CertificateUsage } from '../../tls/certificates.ts';
import { MalformedCertificateRequest, parseCertificateRequest, type ParsedCertificateRequest } from '../../tls/certificate-requests.ts';
import { apiserverClientSigner, hasFailed, isApproved, kubeletClientSigner, kubeletServingSigner, requestPem } from './csr-objects.ts';
import { kubeletClientProblem, kubeletServingProblem } from './node-csr-rules.ts';

const csrType = resourceTypes.find((t) => t.group === certificatesGroup && t.plural === 'certificatesigningrequests')!;
const csrKey = resourceKey(csrType);

/** Each signer's own rule: why it may not issue this request, or ''. */
const signerRules: Record<string, (r: ParsedCertificateRequest, usages: string[]) => string> = {
  [kubeletClientSigner]: kubeletClientProblem,
  [kubeletServingSigner]: kubeletServingProblem,
  [apiserverClientSigner]: (_r, usages) => (usages.includes('client auth') && !usages.includes('server auth') ? '' : 'usages must include "client auth" and not "server auth"'),
};

const extendedUsages: Record<string, CertificateUsage> = { 'client auth': 'clientAuth', 'server auth': 'serverAuth' };

export class CsrSigner {
  private readonly unsubscribe: () => void;
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly resources: ResourceService, private readonly ca: CertificateAuthority,
    /** kube-controller-manager --cluster-signing-duration (default one year). */
    private readonly signingDurationMs: number, private readonly log: Logger,
  ) {
    this.unsubscribe = resources.store.subscribe((e) => this.onChange(e));
  }

  stop(): void {
    this.unsubscribe();
  }

  private onChange(e: StoreEvent): void {
    if (e.resource !== csrKey || e.type === 'DELETED') return;
    const name = e.object.metadata.name;
    if (!isApproved(e.object) || e.object.status?.certificate || hasFailed(e.object) || this.inFlight.has(name)) return;
    this.inFlight.add(name);
    void this.sign(name).catch((err) => {
      if (!(err instanceof ApiError)) this.log.error({ err, csr: name }, 'CSR signing failed');
    }).finally(() => this.inFlight.delete(name));
  }

  private async sign(name: string): Promise<void> {
    const csr = this.resources.store.get(csrKey, '', name);
    const rule = csr && signerRules[csr.spec?.signerName];
    if (!csr || !rule || !isApproved(csr) || csr.status?.certificate || hasFailed(csr)) return;
    const usages: string[] = csr.spec.usages ?? [];
    let request: ParsedCertificateRequest;
    try {
      request = parseCertificateRequest(requestPem(csr));
    } catch (err) {
      if (err instanceof MalformedCertificateRequest) return this.fail(csr, err.message);
      throw err;
    }
    const problem = rule(request, usages) || (await request.signatureValid() ? '' : 'the request is not signed by the key it carries');
    if (problem) return this.fail(csr, problem);
    const requestedMs = csr.spec.expirationSeconds ? Number(csr.spec.expirationSeconds) * 1000 : Infinity;
    const certPem = await this.ca.sign({
      commonName: request.commonName ?? '',
      organizations: request.organizations,
      hosts: [...request.dnsNames, ...request.ipAddresses],
      publicKey: request.publicKey,
      usages: usages.map((u) => extendedUsages[u]).filter((u): u is CertificateUsage => !!u),
      validityMs: Math.min(requestedMs, this.signingDurationMs),
    });
    const latest = this.resources.store.get(csrKey, '', name);
    if (!latest || latest.metadata.uid !== csr.metadata.uid) return;
    this.resources.update(csrType, '', name, { ...latest, status: { ...latest.status, certificate: Buffer.from(certPem).toString('base64') } }, 'status');
    this.log.info({ csr: name, signer: csr.spec.signerName, subject: request.commonName }, 'CSR signed');
  }

  private fail(csr: KubeObject, message: string): void {
    const conditions = [...(csr.status?.conditions ?? []), { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message }];
    this.resources.update(csrType, '', csr.metadata.name, { ...csr, status: { ...csr.status, conditions } }, 'status');
    this.log.info({ csr: csr.metadata.name, signer: csr.spec?.signerName, reason: message }, 'CSR refused by its signer');
  }
}
