// A CNCF distribution registry (Debian's docker-registry) on a free 127.0.0.1 port, plain
// HTTP, storage under the world's root; optionally behind htpasswd basic auth.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDaemon, type Daemon } from './daemon.ts';
import { freeLoopbackPort } from './free-port.ts';
import { waitFor } from './wait.ts';

const execFileAsync = promisify(execFile);

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface Registry {
  /** '127.0.0.1:PORT' */
  host: string;
  daemon: Daemon;
}

/** A bcrypt htpasswd line: distribution accepts only bcrypt. */
function htpasswdLine({ username, password }: RegistryCredentials): string {
  return execFileSync('htpasswd', ['-nbB', username, password], { encoding: 'utf8' }).trim();
}

async function answersV2(host: string): Promise<boolean> {
  const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.status === 200 || res.status === 401;
}

export async function startRegistry(dir: string, name: string, auth?: RegistryCredentials): Promise<Registry> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  let lastError: unknown;
  // The free port may be taken between asking and binding: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const host = `127.0.0.1:${await freeLoopbackPort()}`;
    const config: Record<string, unknown> = {
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
      http: { addr: host, secret: randomBytes(16).toString('hex') },
    };
    if (auth) {
      writeFileSync(join(dir, 'htpasswd'), htpasswdLine(auth) + '\n');
      config.auth = { htpasswd: { realm: `mini-kubelet ${name}`, path: join(dir, 'htpasswd') } };
    }
    writeFileSync(join(dir, 'config.yml'), stringify(config));
    const daemon = startDaemon(name, 'docker-registry', ['serve', join(dir, 'config.yml')], join(dir, 'registry.log'));
    try {
      await waitFor(async () => {
        if (!daemon.isRunning()) throw new Error(`${name} exited: ${daemon.logTail(5)}`);
        return answersV2(host);
      }, { timeoutMs: 20_000, what: `${name} on ${host}` });
      return { host, daemon };
    } catch (err) {
      lastError = err;
      await daemon.stop(1000);
    }
  }
  throw lastError;
}

/** Copies an OCI layout's tag into the registry as `repository:tag`. */
export async function pushImage(layoutDir: string, tag: string, registryHost: string, repository: string, creds?: RegistryCredentials): Promise<string> {
  const ref = `${registryHost}/${repository}:${tag}`;
  const args = ['copy', '--quiet', '--dest-tls-verify=false', '--insecure-policy'];
  if (creds) args.push('--dest-creds', `${creds.username}:${creds.password}`);
  await execFileAsync('skopeo', [...args, `oci:${layoutDir}:${tag}`, `docker://${ref}`], { timeout: 60_000 });
  return ref;
}
