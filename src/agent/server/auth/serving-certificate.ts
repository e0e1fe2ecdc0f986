// The node API's serving certificate: the operator's (--tls-cert-file/--tls-private-key-file),
// or, as the kubelet does without them, a self-signed one for the node's names and IPs kept
// in <root-dir>/pki/kubelet.{crt,key} and reused across restarts while it is valid, matches
// its key and still names every host (a changed node IP gets a fresh one).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { isCurrentCertificate } from '../../../tls/certificate-validity.ts';

export interface ServingCertificate {
  /** The chain as served: leaf first (for a self-signed one, then its CA). */
  certPem: string;
  keyPem: string;
  /** Where it lives, for clients that must trust it (curl --cacert) and for the log. */
  certFile: string;
  origin: 'files' | 'reused' | 'generated' | 'csr';
}

export interface ServingCertificateOptions {
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** Where a self-signed certificate is kept (<root-dir>/pki). */
  certDir: string;
  nodeName: string;
  /** IPs and DNS names besides the node name that clients may dial. */
  hosts: string[];
}

function readPem(what: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** True when the PEM pair is current, belongs together and names every host. */
export function reusable(certPem: string, keyPem: string, hosts: string[]): boolean {
  if (!isCurrentCertificate(certPem)) return false;
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
    return hosts.every((h) => (isIP(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
  } catch {
    return false;
  }
}

export async function loadServingCertificate(opts: ServingCertificateOptions): Promise<ServingCertificate> {
  if (opts.tlsCertFile && opts.tlsPrivateKeyFile) {
    const certPem = readPem('--tls-cert-file', opts.tlsCertFile);
    const keyPem = readPem('--tls-private-key-file', opts.tlsPrivateKeyFile);
    return { certPem, keyPem, certFile: opts.tlsCertFile, origin: 'files' };
  }
  const certFile = join(opts.certDir, 'kubelet.crt');
  const keyFile = join(opts.certDir, 'kubelet.key');
  const hosts = [opts.nodeName, ...opts.hosts];
  try {
    const certPem = readFileSync(certFile, 'utf8');
    const keyPem = readFileSync(keyFile, 'utf8');
    if (reusable(certPem, keyPem, hosts)) return { certPem, keyPem, certFile, origin: 'reused' };
  } catch {
    // Not there yet (first start) or unreadable: make a new one below.
  }
  // Loaded only here: the certificate builder costs start-up time a restart with a kept certificate need not pay.
  const { selfSignedServingCertificate } = await import('../../../tls/certificates.ts');
  const made = await selfSignedServingCertificate(opts.nodeName, opts.hosts);
  mkdirSync(opts.certDir, { recursive: true, mode: 0o700 });
  // The key first and private from its first byte; chmod too, for a file that existed before.
  writeFileSync(keyFile, made.keyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, made.certPem, { mode: 0o644 });
  return { certPem: made.certPem, keyPem: made.keyPem, certFile, origin: 'generated' };
}
