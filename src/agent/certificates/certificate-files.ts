// The kubelet's certificate directory layout (--cert-dir): each certificate the node was issued
// is kept as <prefix>-<timestamp>.pem (certificate, then key), and <prefix>-current.pem is a
// symlink to the one in use, swapped atomically on rotation. A key waiting for its CSR's
// answer is <prefix>.key.tmp, so a restart asks again with the same key (and the same CSR).
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type CertificatePrefix = 'kubelet-client' | 'kubelet-server';

export interface HeldCertificate {
  certPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

export function currentPemPath(certDir: string, prefix: CertificatePrefix): string {
  return join(certDir, `${prefix}-current.pem`);
}

export function pendingKeyPath(certDir: string, prefix: CertificatePrefix): string {
  return join(certDir, `${prefix}.key.tmp`);
}

/** A PEM file holding a certificate and its key, split and with its validity read; undefined when absent or unreadable (it is asked for again). */
export function readCertificatePair(path: string): HeldCertificate | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  const certPem = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)?.[0];
  const keyPem = text.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----\n?/)?.[0];
  if (!certPem || !keyPem) return undefined;
  try {
    const cert = new X509Certificate(certPem);
    return { certPem, keyPem, notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
  } catch {
    return undefined;
  }
}

export function readCurrent(certDir: string, prefix: CertificatePrefix): HeldCertificate | undefined {
  return readCertificatePair(currentPemPath(certDir, prefix));
}

function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, '').replace(/[T:]/g, '-');
}

/** Writes the pair as a new file and points <prefix>-current.pem at it; returns the current path. */
export function storeCertificate(certDir: string, prefix: CertificatePrefix, certPem: string, keyPem: string, now = new Date()): string {
  mkdirSync(certDir, { recursive: true, mode: 0o700 });
  const file = join(certDir, `${prefix}-${stamp(now)}.pem`);
  writeFileSync(file, `${certPem.trimEnd()}\n${keyPem.trimEnd()}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  const current = currentPemPath(certDir, prefix);
  const link = `${current}.updating`;
  rmSync(link, { force: true });
  symlinkSync(file, link);
  renameSync(link, current);
  return current;
}

export function readPendingKey(certDir: string, prefix: CertificatePrefix): string | undefined {
  const path = pendingKeyPath(certDir, prefix);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

export function writePendingKey(certDir: string, prefix: CertificatePrefix, keyPem: string): void {
  mkdirSync(certDir, { recursive: true, mode: 0o700 });
  writeFileSync(pendingKeyPath(certDir, prefix), keyPem, { mode: 0o600 });
}

export function removePendingKey(certDir: string, prefix: CertificatePrefix): void {
  rmSync(pendingKeyPath(certDir, prefix), { force: true });
}
