// The leaf steps of tearing a world down. Each is synchronous and idempotent, so the same
// steps serve an orderly stop(), the last-chance cleanup in a process 'exit' hook, and the
// reaping of worlds whose owner process died.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, isAbsolute, join, normalize } from 'node:path';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
}

function processArgvs(): Array<{ pid: number; argv: string[] }> {
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      out.push({ pid: Number(entry), argv: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0') });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Pids of containerd shims serving the containerd at `socket` (found by their -address flag). */
export function shimPidsOf(socket: string): number[] {
  return processArgvs()
    .filter(({ argv }) => argv[0]?.includes('containerd-shim') && argv[argv.indexOf('-address') + 1] === socket)
    .map(({ pid }) => pid);
}

/** Pids whose command line names a path at or below `dir`: a world's containerd, registries
 * and shims all do, which finds them even when the process that started them is gone. */
export function pidsReferencing(dir: string): number[] {
  return processArgvs()
    .filter(({ pid, argv }) => pid !== process.pid && argv.some((arg) => arg === dir || arg.startsWith(dir + '/') || arg.includes(`=${dir}/`)))
    .map(({ pid }) => pid);
}

export function killPids(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** runc containers (sandboxes and containers) in a runc root; the shim adds a namespace level. */
export function runcStateDirs(runcRoot: string): string[] {
  if (!existsSync(runcRoot)) return [];
  return readdirSync(runcRoot).map((ns) => join(runcRoot, ns));
}

export function runcContainerIds(runcStateDir: string): string[] {
  try {
    return run('runc', ['--root', runcStateDir, 'list', '-q']).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

export interface RuncContainerRef {
  /** containerd namespace (the shim's level under the runc root), e.g. k8s.io. */
  namespace: string;
  id: string;
}

/** Kills and deletes every runc container under `runcRoot`: what containerd left behind. */
export function forceDeleteRuncContainers(runcRoot: string): RuncContainerRef[] {
  const seen: RuncContainerRef[] = [];
  for (const stateDir of runcStateDirs(runcRoot)) {
    for (const id of runcContainerIds(stateDir)) {
      seen.push({ namespace: basename(stateDir), id });
      try {
        run('runc', ['--root', stateDir, 'delete', '--force', id]);
      } catch {
        // gone already, or its state is broken: the unmount and rm below still clean up
      }
    }
  }
  return seen;
}

/** containerd 1.6 puts every shim's socket in /run/containerd/s, named by a hash of the
 * containerd address, namespace and task id. A shim removes it on a clean shutdown; a killed
 * one leaves it behind, so forced teardown removes the sockets of the tasks it killed. */
export function removeShimSockets(containerdSocket: string, tasks: RuncContainerRef[], socketDir = '/run/containerd/s'): void {
  for (const { namespace, id } of tasks) {
    const name = createHash('sha256').update(join(containerdSocket, namespace, id)).digest('hex');
    rmSync(join(socketDir, name), { force: true });
  }
}

/** Mount points at or below `dir`, deepest first (mountinfo escapes blanks as octal). */
export function mountsUnder(dir: string): string[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)
    .map((line) => unescape(line.split(' ')[4] ?? ''))
    .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything under `dir` (rootfs overlays, sandbox shm, netns bind mounts). */
export function unmountAllUnder(dir: string): string[] {
  for (let pass = 0; pass < 5; pass++) {
    const mounts = mountsUnder(dir);
    if (!mounts.length) return [];
    for (const mountPoint of mounts) {
      try {
        run('umount', ['-l', mountPoint]);
      } catch {
        // stacked mounts come off one per pass
      }
    }
  }
  return mountsUnder(dir);
}

export function deleteLink(name: string): void {
  if (existsSync(`/sys/class/net/${name}`)) run('ip', ['link', 'delete', name]);
}

/** libcni caches each ADD result on the host (/var/lib/cni/results/NETWORK-ID-IFNAME). */
export function removeCniResultCache(networkName: string, cacheDir = '/var/lib/cni/results'): void {
  if (!existsSync(cacheDir)) return;
  for (const name of readdirSync(cacheDir)) {
    if (name.startsWith(`${networkName}-`)) rmSync(join(cacheDir, name), { force: true });
  }
}

/** Teardown kills whatever names the root and deletes it: refuse roots that could be shared. */
export function assertWorldRoot(root: string): void {
  if (!isAbsolute(root) || normalize(root) !== root || root.split('/').filter(Boolean).length < 2) {
    throw new Error(`refusing "${root}" as a test world root: use an absolute path at least two levels deep`);
  }
}

/** What a world holds on the host, enough to take it down without its owner process. */
export interface WorldResources {
  root: string;
  socket: string;
  runtimeRoots: string[];
  bridge?: string;
  networkName?: string;
}

/** Takes a world down without CRI and without waiting: for a process 'exit' hook and for
 * worlds whose owner died. Kills its daemons and shims, then its containers through runc. */
export function forceTeardownSync(w: WorldResources): void {
  assertWorldRoot(w.root);
  killPids(pidsReferencing(w.root));
  removeShimSockets(w.socket, w.runtimeRoots.flatMap(forceDeleteRuncContainers));
  unmountAllUnder(w.root);
  if (w.bridge) {
    try {
      deleteLink(w.bridge);
    } catch {
      // best effort: a leftover bridge does not block the next world (it picks another name)
    }
  }
  if (w.networkName) removeCniResultCache(w.networkName);
  if (!mountsUnder(w.root).length) rmSync(w.root, { recursive: true, force: true });
}
