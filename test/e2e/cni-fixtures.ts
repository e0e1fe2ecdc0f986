// Shared fixtures of the CNI e2e tests (not a test file): a temp dir with a conf dir, a
// host-local data dir and a bin dir for fake plugins, a bridge network with a unique bridge
// name and subnet, and network namespaces that are removed again in t.after.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';

const run = promisify(execFile);
export const DEBIAN_CNI_BIN = '/usr/lib/cni';

export async function sh(cmd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(cmd, args, { timeout: 20_000 });
  return stdout;
}

export interface CniWorld {
  dir: string;
  confDir: string;
  fakeBinDir: string;
  /** host-local's dataDir: one file per allocated IP under <dataDir>/<network>/. */
  ipamDataDir: string;
  networkName: string;
  bridge: string;
  /** First three octets, e.g. "10.213.7": the subnet is <prefix>.0/24. */
  prefix: string;
  gateway: string;
  /** A bridge + host-local (+ extra plugins) conflist as an object; dualStack adds an IPv6 range. */
  conflist(extraPlugins?: object[], dualStack?: boolean): Record<string, unknown>;
  /** Run fn at teardown before the netns, bridge and temp dir go (DEL, agent stop). */
  beforeCleanup(fn: () => Promise<unknown>): void;
  /** Create a netns (deleted in t.after); returns its path. */
  addNetns(): Promise<string>;
  /** IPs host-local currently holds for the network. */
  allocatedIps(): Promise<string[]>;
}

/** 10.200-249.x: away from the test world's 10.100-199 and containerd's 10.88. */
function prefixOf(id: string): string {
  return `10.${200 + (parseInt(id.slice(0, 2), 16) % 50)}.${parseInt(id.slice(2, 4), 16)}`;
}

export async function makeCniWorld(t: TestContext): Promise<CniWorld> {
  // A bridge name and subnet no other network on this host uses (the test world takes 10.100-199).
  const routes = await sh('ip', '-4', 'route');
  let id = randomBytes(3).toString('hex');
  while (routes.includes(`${prefixOf(id)}.0/24`)) id = randomBytes(3).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'cni-e2e-'));
  const confDir = join(dir, 'net.d');
  const fakeBinDir = join(dir, 'bin');
  const ipamDataDir = join(dir, 'ipam');
  await run('mkdir', ['-p', confDir, fakeBinDir, ipamDataDir]);
  const bridge = `mkb${id}`;
  const prefix = prefixOf(id);
  const networkName = `e2e-${id}`;
  const namespaces: string[] = [];
  const firstSteps: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const step of firstSteps.reverse()) await step().catch(() => {});
    for (const ns of namespaces) await sh('ip', 'netns', 'del', ns).catch(() => {});
    await sh('ip', 'link', 'del', bridge).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir, confDir, fakeBinDir, ipamDataDir, networkName, bridge, prefix, gateway: `${prefix}.1`,
    conflist: (extraPlugins = [], dualStack = false) => ({
      cniVersion: '1.0.0',
      name: networkName,
      plugins: [
        {
          type: 'bridge', bridge, isGateway: true, ipMasq: false,
          ipam: { type: 'host-local', dataDir: ipamDataDir, ranges: [[{ subnet: `${prefix}.0/24` }], ...(dualStack ? [[{ subnet: `fd00:${id.slice(0, 4)}:${id.slice(4)}::/64` }]] : [])],
          routes: [{ dst: '0.0.0.0/0' }, ...(dualStack ? [{ dst: '::/0' }] : [])] },
        },
        ...extraPlugins,
      ],
    }),
    beforeCleanup: (fn) => void firstSteps.push(fn),
    async addNetns() {
      const name = `mkns-${id}-${namespaces.length}`;
      await sh('ip', 'netns', 'add', name);
      namespaces.push(name);
      return `/var/run/netns/${name}`;
    },
    async allocatedIps() {
      const names = await readdir(join(ipamDataDir, networkName)).catch(() => [] as string[]);
      return names.filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n) || n.includes(':'));
    },
  };
}

/** A fake plugin (sh script) that speaks VERSION, succeeds on DEL and CHECK, and fails ADD with a CNI error. */
export async function writeFailingPlugin(binDir: string, type: string, code: number, msg: string): Promise<void> {
  const path = join(binDir, type);
  await writeFile(path, `#!/bin/sh
case "$CNI_COMMAND" in
  VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]}' ;;
  ADD) cat >/dev/null; echo '{"cniVersion":"1.0.0","code":${code},"msg":"${msg}","details":"fake failure"}'; exit 1 ;;
  *) cat >/dev/null ;;
esac
`);
  await chmod(path, 0o755);
}

/** Run a command inside a netns given by path. */
export async function inNetns(netnsPath: string, ...cmd: string[]): Promise<string> {
  return sh('ip', 'netns', 'exec', netnsPath.split('/').pop() as string, ...cmd);
}
