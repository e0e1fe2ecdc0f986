// kube-controller-manager's csrapproving controller: a kubelet's client certificate request is
// approved when its requester may create certificatesigningrequests/nodeclient (a bootstrapper
// asking for a new node) or, renewing its own, certificatesigningrequests/selfnodeclient (a
// node whose requester is the certificate's own CN). Anything else waits for a person
// (`kubectl certificate approve`); serving certificates are never approved here, as upstream.
import type { Logger } from 'pino';
import type { Authorizer } from '../auth/attributes.ts';
import { ApiError } from '../errors.ts';
import { certificatesGroup, resourceKey, resourceTypes } from '../registry.ts';
import type { ResourceService } from '../resources.ts';
import type { KubeObject, StoreEvent } from '../store.ts';
import { MalformedCertificateRequest, parseCertificateRequest } from '../../tls/certificate-requests.ts';
import { isDecided, kubeletClientSigner, requestPem } from './csr-objects.ts';
import { kubeletClientProblem } from './node-csr-rules.ts';

const csrType = resourceTypes.find((t) => t.group === certificatesGroup && t.plural === 'certificatesigningrequests')!;
const csrKey = resourceKey(csrType);

export class CsrApprover {
  private readonly unsubscribe: () => void;

  constructor(private readonly resources: ResourceService, private readonly authorizer: Authorizer, private readonly log: Logger) {
    this.unsubscribe = resources.store.subscribe((e) => this.onChange(e));
  }

  stop(): void {
    this.unsubscribe();
  }

  private onChange(e: StoreEvent): void {
    if (e.resource !== csrKey || e.type === 'DELETED') return;
    const name = e.object.metadata.name;
    // After the write that woke it has been answered.
    setImmediate(() => {
      const csr = this.resources.store.get(csrKey, '', name);
      if (!csr) return;
      try {
        this.consider(csr);
      } catch (err) {
        if (!(err instanceof ApiError)) this.log.error({ err, csr: name }, 'CSR approval failed');
      }
    });
  }

  private consider(csr: KubeObject): void {
    if (csr.spec?.signerName !== kubeletClientSigner || isDecided(csr)) return;
    let request;
    try {
      request = parseCertificateRequest(requestPem(csr));
    } catch (err) {
      if (err instanceof MalformedCertificateRequest) return;
      throw err;
    }
    if (kubeletClientProblem(request, csr.spec.usages ?? [])) return;
    const self = csr.spec.username === request.commonName;
    const subresource = self ? 'selfnodeclient' : 'nodeclient';
    const requester = { name: String(csr.spec.username ?? ''), uid: csr.spec.uid, groups: csr.spec.groups ?? [], extra: csr.spec.extra };
    const decision = this.authorizer.authorize({
      user: requester, verb: 'create', resourceRequest: true, path: '', apiGroup: certificatesGroup, apiVersion: '*',
      resource: 'certificatesigningrequests', subresource, namespace: '', name: '',
    });
    if (decision.decision !== 'allow') {
      this.log.info({ csr: csr.metadata.name, requester: requester.name, subresource }, 'CSR not auto-approved: the requester may not create certificatesigningrequests/' + subresource);
      return;
    }
    const message = self ? 'Auto approving self kubelet client certificate after SubjectAccessReview.' : 'Auto approving kubelet client certificate after SubjectAccessReview.';
    const conditions = [...(csr.status?.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message }];
    this.resources.update(csrType, '', csr.metadata.name, { ...csr, status: { ...csr.status, conditions } }, 'approval');
    this.log.info({ csr: csr.metadata.name, requester: requester.name, self }, 'CSR auto-approved');
  }
}
