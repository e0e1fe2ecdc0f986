// Builds the world's images from this machine's parts (no public registry is reachable):
// busybox from Debian's static binary plus images/busybox/, pause from images/pause/pause.c,
// and grpc-health (a grpc.health.v1 server for gRPC probes) from images/grpc-health/grpc-health.c.
// Layouts are cached under a directory keyed by the content of their inputs.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOciLayout, type ImageRuntimeConfig } from './oci-layout.ts';

const imagesSourceDir = fileURLToPath(new URL('../../images/', import.meta.url));
/** Bump when the way images are built changes, so old cache entries are not reused. */
const builderVersion = '1';
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BuiltImage {
  /** An OCI image layout directory. */
  layoutDir: string;
  /** The tag inside the layout (and the one to push under). */
  tag: string;
}

export function imageCacheDir(): string {
  if (process.env.MINI_KUBELET_WORLD_CACHE) return process.env.MINI_KUBELET_WORLD_CACHE;
  return process.getuid?.() === 0 ? '/var/cache/mini-kubelet-world' : join(tmpdir(), 'mini-kubelet-world-cache');
}

function contentKey(parts: Array<Buffer | string>): string {
  const hash = createHash('sha256').update(builderVersion);
  for (const part of parts) hash.update(createHash('sha256').update(part).digest());
  return hash.digest('hex').slice(0, 16);
}

/** Returns the cached layout for `key`, building it (into a temp dir, then an atomic rename) if absent. */
function cachedLayout(name: string, key: string, tag: string, fillRootfs: (rootfs: string) => void, config: ImageRuntimeConfig): BuiltImage {
  const layoutDir = join(imageCacheDir(), `${name}-${key}`);
  if (existsSync(join(layoutDir, 'index.json'))) return { layoutDir, tag };
  const work = `${layoutDir}.build-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs, { recursive: true });
    fillRootfs(rootfs);
    writeOciLayout(rootfs, config, tag, join(work, 'layout'));
    try {
      renameSync(join(work, 'layout'), layoutDir);
    } catch (err) {
      // Another process built the same content first: theirs is as good as ours.
      if (!existsSync(join(layoutDir, 'index.json'))) throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { layoutDir, tag };
}

export function buildBusyboxImage(busyboxBinary = '/bin/busybox'): BuiltImage {
  const binary = readFileSync(busyboxBinary);
  const passwd = readFileSync(join(imagesSourceDir, 'busybox/etc/passwd'));
  const group = readFileSync(join(imagesSourceDir, 'busybox/etc/group'));
  const version = /BusyBox v(\d+\.\d+\.\d+)/.exec(execFileSync(busyboxBinary, [], { encoding: 'utf8' }).split('\n')[0] ?? '')?.[1] ?? 'unknown';
  return cachedLayout('busybox', contentKey([binary, passwd, group]), version, (rootfs) => {
    for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'proc', 'sys', 'dev', 'var/www', 'tmp']) mkdirSync(join(rootfs, dir), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    cpSync(busyboxBinary, join(rootfs, 'bin/busybox'));
    chmodSync(join(rootfs, 'bin/busybox'), 0o755);
    cpSync(join(imagesSourceDir, 'busybox/etc'), join(rootfs, 'etc'), { recursive: true });
    // `--list-full` names each applet with its usual directory, e.g. bin/sh, usr/bin/wget.
    const applets = execFileSync(busyboxBinary, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const applet of applets) {
      const link = join(rootfs, applet);
      if (applet === 'bin/busybox' || existsSync(link)) continue;
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync('/bin/busybox', link);
    }
  }, { Env: [PATH], Cmd: ['sh'] });
}

function gccVersion(): string {
  return execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
}

export function buildPauseImage(): BuiltImage {
  const source = join(imagesSourceDir, 'pause/pause.c');
  return cachedLayout('pause', contentKey([readFileSync(source), gccVersion()]), '3.9', (rootfs) => {
    execFileSync('gcc', ['-static', '-O2', '-s', '-o', join(rootfs, 'pause'), source]);
  }, { Entrypoint: ['/pause'], Env: [PATH] });
}

/** Args: [PORT (50051)] [NOT_SERVING_FILE (/tmp/not-serving)]; Check answers NOT_SERVING while
 * that file exists. The image has only the binary and an empty /tmp (no shell). */
export function buildGrpcHealthImage(): BuiltImage {
  const source = join(imagesSourceDir, 'grpc-health/grpc-health.c');
  return cachedLayout('grpc-health', contentKey([readFileSync(source), gccVersion()]), '1', (rootfs) => {
    mkdirSync(join(rootfs, 'tmp'));
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    execFileSync('gcc', ['-static', '-O2', '-s', '-o', join(rootfs, 'grpc-health'), source]);
  }, { Entrypoint: ['/grpc-health'], Env: [PATH] });
}
