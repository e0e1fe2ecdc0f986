// X.509 for the project: a certificate authority that issues serving and client certificates
// (the dev control plane's cluster CA), and the self-signed serving certificate a node makes
// for itself when it is given none. Keys are ECDSA P-256, made by Node's WebCrypto; the
// certificates are built by @peculiar/x509.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** Every key here is ECDSA P-256, signed with SHA-256: certificates and certificate requests alike. */
export const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const dayMs = 24 * 60 * 60 * 1000;
/** Clocks of peers differ a little: certificates are valid from a few minutes ago. */
const backdateMs = 5 * 60 * 1000;

export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

export type CertificateUsage = 'serverAuth' | 'clientAuth';

export interface CertificateRequest {
  /** Subject CN: the user name for client certificates (kube: CN = user). */
  commonName: string;
  /** Subject O values: the groups for client certificates (kube: O = group). */
  organizations?: string[];
  /** DNS names and IP addresses a serving certificate answers for. */
  hosts?: string[];
  usages: CertificateUsage[];
  validityDays?: number;
}

/** A certificate for a key the requester holds (a CSR's), as a cluster signer issues one. */
export interface SigningRequest {
  commonName: string;
  organizations: string[];
  hosts: string[];
  publicKey: x509.PublicKey;
  usages: CertificateUsage[];
  /** The certificate is valid until notBefore's backdate plus this; kube's signers count from now. */
  validityMs: number;
}

export interface CertificateAuthority extends CertificateAndKey {
  issue(request: CertificateRequest): Promise<CertificateAndKey>;
  /** PEM of a certificate for the request's key, signed by this CA. */
  sign(request: SigningRequest): Promise<string>;
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // a positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

/** An RFC 4514 distinguished name; values are escaped so a name cannot add attributes. */
export function distinguishedName(commonName: string, organizations: string[] = []): string {
  const escape = (v: string) => v.replace(/([,+"\\<>;=#])/g, '\\$1');
  return [`CN=${escape(commonName)}`, ...organizations.map((o) => `O=${escape(o)}`)].join(', ');
}

export function subjectAltNames(hosts: string[]): x509.SubjectAlternativeNameExtension {
  return new x509.SubjectAlternativeNameExtension([...new Set(hosts)].map((h) => ({ type: isIP(h) ? 'ip' as const : 'dns' as const, value: h })));
}

export async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - backdateMs), notAfter: new Date(now + days * dayMs) };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

function authorityOf(cert: x509.X509Certificate, keys: { privateKey: CryptoKey }, pems: CertificateAndKey): CertificateAuthority {
  const leaf = async (r: { commonName: string; organizations?: string[]; hosts?: string[]; usages: CertificateUsage[]; publicKey: x509.PublicKeyType; notBefore: Date; notAfter: Date }) => {
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(r.usages.map((u) => x509.ExtendedKeyUsage[u])),
      await x509.AuthorityKeyIdentifierExtension.create(cert),
    ];
    if (r.hosts?.length) extensions.push(subjectAltNames(r.hosts));
    return x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: distinguishedName(r.commonName, r.organizations),
      issuer: cert.subject,
      notBefore: r.notBefore,
      notAfter: r.notAfter,
      publicKey: r.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: algorithm,
      extensions,
    });
  };
  return {
    ...pems,
    async issue(request) {
      const leafKeys = await generateKeys();
      const issued = await leaf({ ...request, publicKey: leafKeys.publicKey, ...validity(request.validityDays ?? 365) });
      return { certPem: issued.toString('pem'), keyPem: await keyPem(leafKeys.privateKey) };
    },
    async sign(request) {
      // Never past the CA's own end: a chain is only as valid as its shortest link.
      const now = Date.now();
      const notAfter = new Date(Math.min(now + request.validityMs, cert.notAfter.getTime()));
      // A short-lived certificate is backdated by a tenth of its life at most, so that most
      // of its life lies ahead (renewal comes at 70-90% of it).
      const notBefore = new Date(now - Math.min(backdateMs, request.validityMs / 10));
      return (await leaf({ ...request, notBefore, notAfter })).toString('pem');
    },
  };
}

export async function createCertificateAuthority(commonName: string, validityDays = 3650): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: distinguishedName(commonName),
    ...validity(validityDays),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return authorityOf(cert, keys, { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) });
}

/** A serving certificate signed by a throwaway CA of its own, as the kubelet makes when given no --tls-cert-file. */
export async function selfSignedServingCertificate(name: string, hosts: string[]): Promise<CertificateAndKey & { caPem: string }> {
  const stamp = Math.floor(Date.now() / 1000);
  const ca = await createCertificateAuthority(`${name}-ca@${stamp}`, 365);
  const serving = await ca.issue({ commonName: `${name}@${stamp}`, hosts: [name, ...hosts], usages: ['serverAuth'], validityDays: 365 });
  // The chain (leaf, then CA) lets a client that trusts the CA verify the leaf.
  return { certPem: `${serving.certPem.trimEnd()}\n${ca.certPem.trimEnd()}\n`, keyPem: serving.keyPem, caPem: ca.certPem };
}
