// The result cache: one JSON file per network + container + interface holding the result of
// ADD and the configuration it was made with, so CHECK and DEL work (with prevResult) even
// after the agent restarted or the configuration on disk changed.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NetworkConfigList } from './config.ts';
import type { CniResult } from './result.ts';

export interface CachedAttachment {
  kind: 'mini-kubelet/cni-result/v1';
  networkName: string;
  containerId: string;
  ifName: string;
  netns: string;
  args: Array<[string, string]>;
  capabilityArgs: Record<string, unknown>;
  /** The configuration ADD ran with; DEL must use the same chain. */
  config: NetworkConfigList;
  result: CniResult;
}

export class ResultCache {
  constructor(readonly dir: string) {}

  private pathOf(networkName: string, containerId: string, ifName: string): string {
    return join(this.dir, `${networkName}-${containerId}-${ifName}.json`);
  }

  async save(entry: Omit<CachedAttachment, 'kind'>): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const path = this.pathOf(entry.networkName, entry.containerId, entry.ifName);
    // Write then rename, so a crash never leaves half a file that DEL would choke on.
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify({ kind: 'mini-kubelet/cni-result/v1', ...entry }, null, 2));
    await rename(tmp, path);
  }

  async get(networkName: string, containerId: string, ifName: string): Promise<CachedAttachment | undefined> {
    return this.read(this.pathOf(networkName, containerId, ifName));
  }

  async remove(networkName: string, containerId: string, ifName: string): Promise<void> {
    await rm(this.pathOf(networkName, containerId, ifName), { force: true });
  }

  /** Every cached attachment (unreadable files are skipped: they hold nothing DEL could use). */
  async list(): Promise<CachedAttachment[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: CachedAttachment[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      const entry = await this.read(join(this.dir, name));
      if (entry) out.push(entry);
    }
    return out;
  }

  private async read(path: string): Promise<CachedAttachment | undefined> {
    try {
      const entry = JSON.parse(await readFile(path, 'utf8')) as CachedAttachment;
      return entry.kind === 'mini-kubelet/cni-result/v1' ? entry : undefined;
    } catch {
      return undefined;
    }
  }
}
