// The node API's serving certificate: self-signed for the node's names under <root-dir>/pki,
// key private, reused across restarts, made again when a host is missing; given files win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServingCertificate } from '../../src/agent/server/auth/serving-certificate.ts';

test('a self-signed serving certificate is made once, kept private, reused, and remade for new hosts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'serving-cert-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certDir = join(dir, 'pki');
  const opts = { certDir, nodeName: 'node-a', hosts: ['10.1.2.3', 'localhost', '127.0.0.1'] };

  const first = await loadServingCertificate(opts);
  assert.equal(first.origin, 'generated');
  assert.equal(first.certFile, join(certDir, 'kubelet.crt'));
  assert.equal(statSync(join(certDir, 'kubelet.key')).mode & 0o777, 0o600);
  assert.equal(readFileSync(first.certFile, 'utf8'), first.certPem);
  const leaf = new X509Certificate(first.certPem);
  assert.equal(leaf.checkHost('node-a'), 'node-a');
  assert.equal(leaf.checkHost('localhost'), 'localhost');
  assert.equal(leaf.checkIP('10.1.2.3'), '10.1.2.3');
  assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');

  const again = await loadServingCertificate(opts);
  assert.equal(again.origin, 'reused');
  assert.equal(again.certPem, first.certPem);

  const moved = await loadServingCertificate({ ...opts, hosts: ['10.9.9.9'] });
  assert.equal(moved.origin, 'generated');
  assert.equal(new X509Certificate(moved.certPem).checkIP('10.9.9.9'), '10.9.9.9');

  writeFileSync(join(certDir, 'kubelet.crt'), 'garbage');
  assert.equal((await loadServingCertificate(opts)).origin, 'generated');
});

test('--tls-cert-file and --tls-private-key-file are used as given; unreadable ones fail with the flag named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'serving-cert-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'c.pem'), 'CERT');
  writeFileSync(join(dir, 'k.pem'), 'KEY');
  const given = await loadServingCertificate({ tlsCertFile: join(dir, 'c.pem'), tlsPrivateKeyFile: join(dir, 'k.pem'), certDir: join(dir, 'pki'), nodeName: 'n', hosts: [] });
  assert.deepEqual(given, { certPem: 'CERT', keyPem: 'KEY', certFile: join(dir, 'c.pem'), origin: 'files' });
  await assert.rejects(
    loadServingCertificate({ tlsCertFile: join(dir, 'absent.pem'), tlsPrivateKeyFile: join(dir, 'k.pem'), certDir: join(dir, 'pki'), nodeName: 'n', hosts: [] }),
    /cannot read --tls-cert-file .*absent\.pem/,
  );
});
