// Writes a one-layer OCI image layout (oci-layout, index.json, blobs/sha256/...) from a
// directory tree: the layer is a reproducible gzipped tar, the config names its diff_id, and
// index.json tags the manifest so `skopeo copy oci:DIR:TAG` finds it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface ImageRuntimeConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A tar of `rootfsDir` that is byte-identical across runs (sorted, fixed owner and mtime). */
export function reproducibleTar(rootfsDir: string): Buffer {
  return execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', rootfsDir, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
}

export function writeOciLayout(rootfsDir: string, runtimeConfig: ImageRuntimeConfig, tag: string, layoutDir: string): { manifestDigest: string } {
  const blobs = join(layoutDir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const putBlob = (data: Buffer | string) => {
    const digest = sha256(data);
    writeFileSync(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };

  const tar = reproducibleTar(rootfsDir);
  const layer = putBlob(gzipSync(tar, { level: 9 }));
  const config = putBlob(JSON.stringify({
    architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
    os: 'linux',
    config: runtimeConfig,
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar)}`] },
    history: [{ created_by: 'mini-kubelet test world', created: '1970-01-01T00:00:00Z' }],
    created: '1970-01-01T00:00:00Z',
  }));
  const manifest = putBlob(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  }));
  writeFileSync(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layoutDir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest,
      annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  return { manifestDigest: manifest.digest };
}
