// Whether a certificate is still good to serve: Node's own X.509 parser is enough to tell, so
// a node that reuses its certificate never loads the certificate builder (src/tls/certificates.ts).
import { X509Certificate } from 'node:crypto';

const dayMs = 24 * 60 * 60 * 1000;

/** True when the PEM holds a certificate that is valid now and for at least `marginMs` more. */
export function isCurrentCertificate(certPem: string, marginMs = dayMs): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const now = Date.now();
    return new Date(cert.validFrom).getTime() <= now && new Date(cert.validTo).getTime() > now + marginMs;
  } catch {
    return false;
  }
}
