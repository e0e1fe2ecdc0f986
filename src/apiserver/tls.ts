// A self-signed serving certificate made with the openssl CLI, for --tls.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServingCert { cert: string; key: string }

export async function generateSelfSignedCert(hosts: string[]): Promise<ServingCert> {
  const dir = await mkdtemp(join(tmpdir(), 'mini-kubelet-apiserver-tls-'));
  try {
    const san = [...new Set(['localhost', '127.0.0.1', ...hosts])]
      .map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? `IP:${h}` : `DNS:${h}`))
      .join(',');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365',
      '-subj', '/CN=mini-kubelet-apiserver', '-addext', `subjectAltName=${san}`,
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    return { cert: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
