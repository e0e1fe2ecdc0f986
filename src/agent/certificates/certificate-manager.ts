// One certificate the node holds and renews (the kubelet's certificate manager): its client
// certificate (kubernetes.io/kube-apiserver-client-kubelet) or its serving certificate
// (kubernetes.io/kubelet-serving). `obtain` asks for one by CSR with a fresh key; `start`
// renews it at 70-90% of its life, retrying with backoff until it is renewed or expires.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RequestSubject } from '../../tls/certificate-requests.ts';
import {
  readCurrent, readPendingKey, removePendingKey, storeCertificate, writePendingKey, type CertificatePrefix, type HeldCertificate,
} from './certificate-files.ts';
import { bootstrapCsrName, requestCertificate } from './csr-client.ts';
import { rotationDeadline } from './rotation-deadline.ts';
import { runAt } from '../../util/timer-limit.ts';

export const kubeletClientSigner = 'kubernetes.io/kube-apiserver-client-kubelet';
export const kubeletServingSigner = 'kubernetes.io/kubelet-serving';

export interface CertificateManagerOptions {
  certDir: string;
  prefix: CertificatePrefix;
  signerName: string;
  usages: string[];
  subject: () => RequestSubject;
  /** How long to wait for a CSR to be approved and issued. */
  approvalTimeoutMs: number;
  logger: Logger;
  /** Told after each new certificate is in place. */
  onRenewed?(held: HeldCertificate): void;
}

const maxRetryMs = 5 * 60_000;
/** How long a CSR may wait for a person or a controller to approve it (the kubelet waits an hour). */
export const csrApprovalTimeoutMs = 60 * 60_000;

export class CertificateManager {
  private cancelTimer: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly o: CertificateManagerOptions) {}

  current(): HeldCertificate | undefined {
    return readCurrent(this.o.certDir, this.o.prefix);
  }

  /**
   * A new certificate by CSR, filed with `credentials`; kept as <prefix>-current.pem. The key
   * waits in <prefix>.key.tmp until then; with `stableName` the CSR is named after it, so a
   * restart finds the same request instead of filing another (the kubelet's bootstrap does so).
   */
  async obtain(credentials: KubeConfig, opts: { stableName?: boolean } = {}): Promise<HeldCertificate> {
    const { certDir, prefix, signerName, usages, logger } = this.o;
    const pendingKey = readPendingKey(certDir, prefix);
    const subject = this.o.subject();
    // Loaded only when a certificate is asked for: the X.509 builder costs start-up time.
    const { createCertificateRequest } = await import('../../tls/certificate-requests.ts');
    const { csrPem, keyPem } = await createCertificateRequest(subject, pendingKey);
    if (!pendingKey) writePendingKey(certDir, prefix, keyPem);
    const name = opts.stableName ? bootstrapCsrName(keyPem, subject, signerName, usages) : undefined;
    const certPem = await requestCertificate(credentials, { csrPem, signerName, usages, ...(name ? { name } : {}) }, {
      timeoutMs: this.o.approvalTimeoutMs,
      onWaiting: (csr) => logger.info({ csr, signerName }, 'certificate signing request filed; waiting for approval and issuance'),
    });
    storeCertificate(certDir, prefix, certPem, keyPem);
    removePendingKey(certDir, prefix);
    const held = this.current()!;
    logger.info({ signerName, notAfter: held.notAfter.toISOString() }, 'certificate issued');
    this.o.onRenewed?.(held);
    return held;
  }

  /** Renews before expiry (or at once with `now`), filing each CSR with `credentials()` (the node's own, once it has them). */
  start(credentials: () => KubeConfig, opts: { now?: boolean } = {}): void {
    const schedule = (delayMs: number, failures: number) => {
      if (this.stopped) return;
      // A year-long certificate renews months ahead: further than one timer can wait.
      this.cancelTimer = runAt(Date.now() + delayMs, () => void renew(failures));
    };
    const renew = async (failures: number) => {
      try {
        const held = await this.obtain(credentials());
        schedule(rotationDeadline(held.notBefore, held.notAfter).getTime() - Date.now(), 0);
      } catch (err) {
        const held = this.current();
        const retryMs = Math.min(maxRetryMs, 1000 * 2 ** failures);
        this.o.logger.warn({ err: String(err), signerName: this.o.signerName, retryInMs: retryMs, notAfter: held?.notAfter.toISOString() }, 'certificate renewal failed; retrying');
        schedule(retryMs, failures + 1);
      }
    };
    const held = this.current();
    const deadline = held && !opts.now ? rotationDeadline(held.notBefore, held.notAfter) : new Date();
    this.o.logger.info({ signerName: this.o.signerName, notAfter: held?.notAfter.toISOString(), renewAt: deadline.toISOString() }, 'certificate rotation scheduled');
    schedule(deadline.getTime() - Date.now(), 0);
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
  }
}
