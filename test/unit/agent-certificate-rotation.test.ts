// When a certificate is renewed (70-90% of its life, as the kubelet), and what makes a CSR a
// kubelet's client or serving request (the rules the dev control plane's approver and signer share).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rotationDeadline } from '../../src/agent/certificates/rotation-deadline.ts';
import { kubeletClientProblem, kubeletServingProblem } from '../../src/apiserver/certificates/node-csr-rules.ts';
import { bootstrapCsrName } from '../../src/agent/certificates/csr-client.ts';
import type { ParsedCertificateRequest } from '../../src/tls/certificate-requests.ts';

test('renewal falls between 70% and 90% of the lifetime', () => {
  const from = new Date('2026-01-01T00:00:00Z');
  const to = new Date('2026-01-11T00:00:00Z');
  assert.equal(rotationDeadline(from, to, 0).toISOString(), '2026-01-08T00:00:00.000Z');
  assert.equal(rotationDeadline(from, to, 1).toISOString(), '2026-01-10T00:00:00.000Z');
  assert.equal(rotationDeadline(from, to, 0.5).toISOString(), '2026-01-09T00:00:00.000Z');
});

const request = (over: Partial<ParsedCertificateRequest>): ParsedCertificateRequest => ({
  commonName: 'system:node:n1', organizations: ['system:nodes'], dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [],
  publicKey: undefined as never, keyAlgorithm: 'ECDSA', signatureValid: async () => true, ...over,
});
const client = ['digital signature', 'client auth'];

const clientCases: Array<[string, Partial<ParsedCertificateRequest>, string[], RegExp | '']> = [
  ['a node client request', {}, client, ''],
  ['with key encipherment too', {}, ['digital signature', 'key encipherment', 'client auth'], ''],
  ['another organization', { organizations: ['system:masters'] }, client, /organization is not system:nodes/],
  ['two organizations', { organizations: ['system:nodes', 'system:masters'] }, client, /organization is not system:nodes/],
  ['a CN that is no node', { commonName: 'admin' }, client, /does not begin with system:node:/],
  ['with a DNS name', { dnsNames: ['n1'] }, client, /not allowed/],
  ['server auth asked', {}, ['digital signature', 'server auth'], /usages did not match/],
];
for (const [name, over, usages, want] of clientCases) {
  test(`kubelet client CSR rule: ${name}`, () => {
    const got = kubeletClientProblem(request(over), usages);
    if (want === '') assert.equal(got, '');
    else assert.match(got, want);
  });
}

test('kubelet serving CSR rule: needs a DNS name or IP, and server auth', () => {
  assert.equal(kubeletServingProblem(request({ dnsNames: ['n1'], ipAddresses: ['10.0.0.1'] }), ['digital signature', 'server auth']), '');
  assert.match(kubeletServingProblem(request({}), ['digital signature', 'server auth']), /DNS or IP/);
  assert.match(kubeletServingProblem(request({ dnsNames: ['n1'] }), client), /usages did not match/);
});

test('the bootstrap CSR name depends on the key and the ask, not on the (randomly signed) request: a restart finds the same CSR', async () => {
  const { createCertificateRequest } = await import('../../src/tls/certificate-requests.ts');
  const subject = { commonName: 'system:node:n1', organizations: ['system:nodes'] };
  const first = await createCertificateRequest(subject);
  const again = await createCertificateRequest(subject, first.keyPem);
  assert.notEqual(first.csrPem, again.csrPem, 'ECDSA signatures differ each time');
  const name = (keyPem: string) => bootstrapCsrName(keyPem, subject, 'kubernetes.io/kube-apiserver-client-kubelet', client);
  assert.equal(name(first.keyPem), name(again.keyPem));
  assert.notEqual(name(first.keyPem), name((await createCertificateRequest(subject)).keyPem));
  assert.match(name(first.keyPem), /^node-csr-[A-Za-z0-9_-]{43}$/);
});

test('a certificate that lives longer than a timer can wait (24.8 days) is not renewed at once', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { pino } = await import('pino');
  const { CertificateManager } = await import('../../src/agent/certificates/certificate-manager.ts');
  const { storeCertificate } = await import('../../src/agent/certificates/certificate-files.ts');
  const { createCertificateAuthority } = await import('../../src/tls/certificates.ts');
  const dir = mkdtempSync(join(tmpdir(), 'rotation-'));
  const ca = await createCertificateAuthority('test-ca');
  const leaf = await ca.issue({ commonName: 'system:node:n1', usages: ['clientAuth'], validityDays: 365 });
  storeCertificate(dir, 'kubelet-client', leaf.certPem, leaf.keyPem);
  let asked = 0;
  const manager = new CertificateManager({
    certDir: dir, prefix: 'kubelet-client', signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: client,
    subject: () => ({ commonName: 'system:node:n1' }), approvalTimeoutMs: 1000, logger: pino({ level: 'silent' }),
  });
  manager.start(() => {
    asked++;
    throw new Error('no API server in this test');
  });
  // A timer that overflowed fires on the next turn of the event loop: give it several.
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
  manager.stop();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(asked, 0);
});
