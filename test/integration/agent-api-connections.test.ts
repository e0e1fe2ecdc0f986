// The agent's API calls share TLS connections: with a client certificate, client-node alone
// would open (and handshake) a new connection for every call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { createKubeApi } from '../../src/agent/api/kube-api.ts';
import { createCertificateAuthority } from '../../src/tls/certificates.ts';

test('API calls made with a client certificate reuse one TLS connection', async (t) => {
  const ca = await createCertificateAuthority('test-ca');
  const serving = await ca.issue({ commonName: 'server', hosts: ['127.0.0.1'], usages: ['serverAuth'] });
  const client = await ca.issue({ commonName: 'system:node:n1', organizations: ['system:nodes'], usages: ['clientAuth'] });
  let handshakes = 0;
  const peers = new Set<string>();
  const server = createServer({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    peers.add(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
    res.writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404 }));
  });
  server.on('secureConnection', () => handshakes++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: Buffer.from(ca.certPem).toString('base64') }],
    users: [{ name: 'u', certData: Buffer.from(client.certPem).toString('base64'), keyData: Buffer.from(client.keyPem).toString('base64') }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  const api = createKubeApi(kubeConfig);
  const calls = 20;
  for (let i = 0; i < calls; i++) assert.equal(await api.getNode(`n${i}`), undefined);
  assert.deepEqual([...peers], ['system:node:n1'], 'the client certificate is presented');
  // A pool may open a second connection while the first is still being released; never one a call.
  assert.ok(handshakes <= 3, `${handshakes} TLS handshakes for ${calls} calls`);
});
