// PKCS#10 certificate requests: what a kubelet files to get a certificate (a fresh key, a
// subject, the names a serving certificate answers for), and what a signer reads back out of
// one. Built and parsed by @peculiar/x509 on Node's WebCrypto, like certificates.ts.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
// certificates.ts also hands x509 its crypto provider.
import { algorithm, distinguishedName, keyPem as privateKeyPem, subjectAltNames } from './certificates.ts';

const subjectAltNameOid = '2.5.29.17';

export interface RequestSubject {
  commonName: string;
  organizations?: string[];
  /** DNS names and IP addresses, for a serving certificate. */
  hosts?: string[];
}

/** What a CSR asks for, read from its PEM. */
export interface ParsedCertificateRequest {
  commonName?: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  /** The requester's key, for the certificate a signer issues. */
  publicKey: x509.PublicKey;
  /** ECDSA or RSA: an ECDSA key needs no "key encipherment" usage. */
  keyAlgorithm: string;
  /** Whether the request is signed by the key it carries (proof the requester holds it). */
  signatureValid(): Promise<boolean>;
}

export class MalformedCertificateRequest extends Error {}

/** A new ECDSA P-256 key (PKCS#8 PEM) and a CSR for it (PEM "CERTIFICATE REQUEST"). */
export async function createCertificateRequest(subject: RequestSubject, existingKeyPem?: string): Promise<{ csrPem: string; keyPem: string }> {
  const keys = existingKeyPem ? await importKeyPair(existingKeyPem) : await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as CryptoKeyPair;
  const extensions: x509.Extension[] = subject.hosts?.length ? [subjectAltNames(subject.hosts)] : [];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: distinguishedName(subject.commonName, subject.organizations), keys, signingAlgorithm: algorithm, extensions,
  });
  const keyPem = existingKeyPem ?? await privateKeyPem(keys.privateKey);
  return { csrPem: csr.toString('pem'), keyPem };
}

/** The key pair of a PKCS#8 ECDSA P-256 private key, its public half derived through JWK. */
async function importKeyPair(keyPem: string): Promise<CryptoKeyPair> {
  const der = x509.PemConverter.decode(keyPem)[0];
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, algorithm, true, ['sign']);
  const jwk = await webcrypto.subtle.exportKey('jwk', privateKey);
  const publicKey = await webcrypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, algorithm, true, ['verify']);
  return { privateKey, publicKey };
}

/** Reads a PEM CSR; throws MalformedCertificateRequest when it is not one. */
export function parseCertificateRequest(pem: string): ParsedCertificateRequest {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    const blocks = x509.PemConverter.decodeWithHeaders(pem);
    if (blocks.length < 1 || blocks[0].type !== 'CERTIFICATE REQUEST') throw new Error('no PEM block of type CERTIFICATE REQUEST');
    csr = new x509.Pkcs10CertificateRequest(blocks[0].rawData);
  } catch (err) {
    throw new MalformedCertificateRequest(`PEM block type must be CERTIFICATE REQUEST (${(err as Error).message})`);
  }
  const san = csr.getExtension(subjectAltNameOid) as x509.SubjectAlternativeNameExtension | null;
  const names = san?.names.toJSON() ?? [];
  const of = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  return {
    commonName: csr.subjectName.getField('CN')[0],
    organizations: csr.subjectName.getField('O'),
    dnsNames: of('dns'),
    ipAddresses: of('ip'),
    emailAddresses: of('email'),
    uris: of('url'),
    publicKey: csr.publicKey,
    keyAlgorithm: csr.publicKey.algorithm.name,
    signatureValid: () => csr.verify().catch(() => false),
  };
}
