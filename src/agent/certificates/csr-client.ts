// Asking the cluster for a certificate: file a CertificateSigningRequest and wait until it is
// issued, the way the kubelet's certificate manager does. The answer is the certificate, or
// an error that says which door closed: the credentials were refused (a bootstrap token
// deleted or expired), the request was denied, or its signer failed it.
import { createHash, createPublicKey } from 'node:crypto';
import type { RequestSubject } from '../../tls/certificate-requests.ts';
import type { KubeConfig, V1CertificateSigningRequest, V1CertificateSigningRequestList } from '@kubernetes/client-node';
import { watchNamedObject } from '../api/named-object-watch.ts';
import { statusOf } from '../api/kube-api.ts';
import { createRestClient, type RestClient } from '../api/rest-client.ts';
import { createWatcher } from '../api/watch-stream.ts';

const csrs = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

export interface CertificateAsk {
  csrPem: string;
  signerName: string;
  usages: string[];
  /** A fixed name (the kubelet's bootstrap names its CSR after the key, so a restart finds it); else generateName csr-. */
  name?: string;
}

/** Why no certificate came; `reason` is a stable word for logs and tests. */
export class CertificateRequestFailed extends Error {
  constructor(readonly reason: 'Unauthorized' | 'Forbidden' | 'Denied' | 'Failed' | 'TimedOut', message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The kubelet's bootstrap CSR name: node-csr-<digest of the public key and what is asked>. Not
 * of the request itself: its ECDSA signature differs each time, and a restart must find the CSR
 * it filed before with the same key.
 */
export function bootstrapCsrName(keyPem: string, subject: RequestSubject, signerName: string, usages: string[]): string {
  const publicKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  const digest = createHash('sha512').update(publicKey)
    .update(JSON.stringify([subject.commonName, subject.organizations ?? [], subject.hosts ?? [], signerName, usages])).digest('base64url');
  return `node-csr-${digest.slice(0, 43)}`;
}

function refusal(err: unknown, what: string): CertificateRequestFailed | undefined {
  const code = statusOf(err);
  if (code === 401) return new CertificateRequestFailed('Unauthorized', `${what}: the API server refused these credentials (401 Unauthorized)`, { cause: err });
  if (code === 403) return new CertificateRequestFailed('Forbidden', `${what}: forbidden (403): ${(err as { body?: string }).body ?? String(err)}`, { cause: err });
  return undefined;
}

/** Files the request and resolves with the issued certificate's PEM once approved and signed. */
export async function requestCertificate(kubeConfig: KubeConfig, ask: CertificateAsk, opts: { timeoutMs: number; onWaiting?: (name: string) => void }): Promise<string> {
  const api = createRestClient(kubeConfig);
  const body: V1CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: ask.name ? { name: ask.name } : { generateName: 'csr-' },
    spec: { request: Buffer.from(ask.csrPem).toString('base64'), signerName: ask.signerName, usages: ask.usages },
  };
  let name: string;
  try {
    name = (await api.send<V1CertificateSigningRequest>({ method: 'POST', path: csrs, body })).metadata!.name!;
  } catch (err) {
    // The same key's request from before a restart: wait for that one.
    if (statusOf(err) === 409 && ask.name) name = ask.name;
    else throw refusal(err, 'filing the certificate signing request') ?? new Error(`filing the certificate signing request: ${String(err)}`, { cause: err });
  }
  opts.onWaiting?.(name);
  return awaitIssued(api, name, opts.timeoutMs);
}

function awaitIssued(api: RestClient, name: string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopWatch();
      fn();
    };
    const check = async () => {
      try {
        const csr = await api.send<V1CertificateSigningRequest>({ method: 'GET', path: `${csrs}/${encodeURIComponent(name)}` });
        const conditions = csr.status?.conditions ?? [];
        const denied = conditions.find((c) => c.type === 'Denied' && c.status === 'True');
        if (denied) return finish(() => reject(new CertificateRequestFailed('Denied', `certificate signing request ${name} was denied (${denied.reason ?? ''}: ${denied.message ?? ''})`)));
        const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
        if (failed) return finish(() => reject(new CertificateRequestFailed('Failed', `certificate signing request ${name} failed (${failed.reason ?? ''}: ${failed.message ?? ''})`)));
        if (csr.status?.certificate) return finish(() => resolve(Buffer.from(csr.status!.certificate!, 'base64').toString('utf8')));
      } catch (err) {
        const refused = refusal(err, `reading certificate signing request ${name}`);
        if (refused) finish(() => reject(refused));
      }
    };
    const timer = setTimeout(() => finish(() => reject(new CertificateRequestFailed('TimedOut', `certificate signing request ${name} was not approved and issued within ${Math.round(timeoutMs / 1000)} s`))), timeoutMs);
    const stopWatch = watchNamedObject({
      watcher: createWatcher(api),
      path: csrs,
      name,
      list: async (fieldSelector) => {
        const list = await api.send<V1CertificateSigningRequestList>({ method: 'GET', path: csrs, query: { fieldSelector } });
        return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
      },
      onChange: () => void check(),
      retryDelayMs: 1000,
      onError: (err) => {
        const refused = refusal(err, `watching certificate signing request ${name}`);
        if (refused) finish(() => reject(refused));
      },
    });
    void check();
  });
}
