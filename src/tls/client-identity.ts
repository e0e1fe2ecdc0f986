// Who a verified client certificate names, the Kubernetes way: the subject's CN is the user
// name and each O is a group. Only call this for a certificate the TLS layer has verified
// against the client CA (socket.authorized).
import type { PeerCertificate } from 'node:tls';

export interface CertificateUser {
  name: string;
  groups: string[];
}

export function userFromClientCertificate(cert: PeerCertificate | undefined): CertificateUser | undefined {
  const cn = cert?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return undefined;
  const o = cert!.subject.O as string | string[] | undefined;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name, groups };
}
