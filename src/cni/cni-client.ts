// The CNI library proper: run a network's plugin chain as the spec says. ADD in order with
// prevResult chaining (and a DEL of everything when a step fails), CHECK and DEL with the
// cached result, DEL in reverse and idempotent, STATUS and GC for 1.1.0 networks, VERSION to
// make sure each plugin speaks the network's cniVersion before we send it anything.
import type { BaseLogger } from 'pino';
import { inSpan } from '../trace/in-span.ts';
import { SANDBOX_ID } from '../trace/span-attributes.ts';
import { pino } from 'pino';
import type { NetworkConfigList, PluginConfig } from './config.ts';
import { CniErrorCode, CniPluginError } from './errors.ts';
import { buildPluginEnv, buildPluginStdin, type CniAttachment, type CniCommand } from './plugin-input.ts';
import { DEFAULT_PLUGIN_TIMEOUT_MS, execPlugin, findPlugin } from './plugin-exec.ts';
import { ResultCache } from './result-cache.ts';
import { parseResult, type CniResult } from './result.ts';
import { atLeast } from './version.ts';

export interface CniClientOptions {
  /** Directories searched for plugin binaries, in order (CNI_PATH). */
  binDirs: string[];
  /** Where results are cached, e.g. <root-dir>/cni/results. */
  cacheDir: string;
  timeoutMs?: number;
  logger?: BaseLogger;
}

export class CniClient {
  readonly cache: ResultCache;
  private readonly binDirs: string[];
  private readonly timeoutMs: number;
  private readonly log: BaseLogger;
  private readonly versionsByPath = new Map<string, Promise<string[]>>();

  constructor(opts: CniClientOptions) {
    this.binDirs = opts.binDirs;
    this.cache = new ResultCache(opts.cacheDir);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_PLUGIN_TIMEOUT_MS;
    this.log = opts.logger ?? pino({ level: 'silent' });
  }

  /** The spec versions a plugin supports (its answer to VERSION; asked once per binary). */
  async pluginVersions(type: string): Promise<string[]> {
    const path = await findPlugin(this.binDirs, type);
    let known = this.versionsByPath.get(path);
    if (!known) {
      known = (async () => {
        // cniVersion in the VERSION request is the newest we speak; plugins answer regardless.
        const out = await execPlugin(path, type, buildPluginEnv('VERSION', this.binDirs), JSON.stringify({ cniVersion: '1.1.0' }), this.timeoutMs);
        const parsed = JSON.parse(out) as { supportedVersions?: unknown };
        if (!Array.isArray(parsed.supportedVersions)) throw new CniPluginError(CniErrorCode.decodeFailure, 'VERSION answer has no supportedVersions', out.slice(0, 200), type);
        return parsed.supportedVersions.map(String);
      })();
      known.catch(() => this.versionsByPath.delete(path));
      this.versionsByPath.set(path, known);
    }
    return known;
  }

  /** Fail early, with the plugin named, when a plugin cannot speak the network's version. */
  private async requireVersion(list: NetworkConfigList, plugin: PluginConfig): Promise<void> {
    const versions = await this.pluginVersions(plugin.type);
    if (!versions.includes(list.cniVersion)) {
      throw new CniPluginError(CniErrorCode.incompatibleVersion, `does not support cniVersion ${list.cniVersion} of network "${list.name}" (${list.file})`, `supports ${versions.join(', ')}`, plugin.type);
    }
  }

  private async invoke(command: CniCommand, list: NetworkConfigList, plugin: PluginConfig, stdin: Record<string, unknown>, attachment?: CniAttachment): Promise<string> {
    const started = Date.now();
    const path = await findPlugin(this.binDirs, plugin.type);
    try {
      return await inSpan(`cni.${command.toLowerCase()} ${plugin.type}`, { 'cni.network': list.name, ...(attachment ? { [SANDBOX_ID]: attachment.containerId, 'cni.ifname': attachment.ifName } : {}) },
        () => execPlugin(path, plugin.type, buildPluginEnv(command, this.binDirs, attachment), JSON.stringify(stdin), this.timeoutMs));
    } finally {
      this.log.debug({ step: `cni ${command}`, plugin: plugin.type, network: list.name, container: attachment?.containerId, ms: Date.now() - started }, 'plugin invoked');
    }
  }

  /** ADD every plugin in order; on failure DEL the whole chain so nothing stays allocated. */
  async addNetworkList(list: NetworkConfigList, attachment: CniAttachment): Promise<CniResult> {
    for (const plugin of list.plugins) await this.requireVersion(list, plugin);
    let result: CniResult | undefined;
    try {
      for (const plugin of list.plugins) {
        const stdin = buildPluginStdin(list, plugin, { prevResult: result, capabilityArgs: attachment.capabilityArgs });
        const out = await this.invoke('ADD', list, plugin, stdin, attachment);
        let raw: unknown;
        try {
          raw = JSON.parse(out);
        } catch {
          throw new CniPluginError(CniErrorCode.decodeFailure, 'ADD printed no JSON result', out.slice(0, 200), plugin.type);
        }
        result = parseResult(raw, list.cniVersion, plugin.type);
      }
    } catch (err) {
      this.log.warn({ network: list.name, container: attachment.containerId, err: (err as Error).message }, 'ADD failed; deleting the partial attachment');
      try {
        await this.runDel(list, attachment, result);
      } catch (delErr) {
        this.log.error({ network: list.name, container: attachment.containerId, err: (delErr as Error).message }, 'DEL after a failed ADD failed too');
      }
      await this.cache.remove(list.name, attachment.containerId, attachment.ifName);
      throw err;
    }
    const final = result as CniResult;
    await this.cache.save({
      networkName: list.name,
      containerId: attachment.containerId,
      ifName: attachment.ifName,
      netns: attachment.netns,
      args: attachment.args,
      capabilityArgs: attachment.capabilityArgs,
      config: list,
      result: final,
    });
    return final;
  }

  /** CHECK every plugin with the cached result (a no-op when the network disables CHECK). */
  async checkNetworkList(list: NetworkConfigList, attachment: CniAttachment): Promise<void> {
    if (!atLeast(list.cniVersion, '0.4.0')) {
      throw new CniPluginError(CniErrorCode.incompatibleVersion, `CHECK needs cniVersion 0.4.0 or later; network "${list.name}" has ${list.cniVersion}`);
    }
    if (list.disableCheck) return;
    const cached = await this.cache.get(list.name, attachment.containerId, attachment.ifName);
    if (!cached) {
      throw new CniPluginError(CniErrorCode.containerUnknown, `no cached result for container ${attachment.containerId} interface ${attachment.ifName} on network "${list.name}"`);
    }
    for (const plugin of cached.config.plugins) {
      const stdin = buildPluginStdin(cached.config, plugin, { prevResult: cached.result, capabilityArgs: attachment.capabilityArgs });
      await this.invoke('CHECK', cached.config, plugin, stdin, attachment);
    }
  }

  /** DEL in reverse order with the cached result and the configuration ADD used. Idempotent:
   * DEL of something unknown still asks every plugin (they tolerate missing state). */
  async delNetworkList(list: NetworkConfigList, attachment: CniAttachment): Promise<void> {
    const cached = await this.cache.get(list.name, attachment.containerId, attachment.ifName);
    const config = cached?.config ?? list;
    // libcni passes the cached result on DEL from 0.4.0 on; older plugins never expect it.
    const prev = cached && atLeast(config.cniVersion, '0.4.0') ? cached.result : undefined;
    await this.runDel(config, { ...attachment, capabilityArgs: cached?.capabilityArgs ?? attachment.capabilityArgs }, prev);
    await this.cache.remove(list.name, attachment.containerId, attachment.ifName);
  }

  /** Every plugin gets its DEL even when one fails, so as much as possible is freed; the first error is thrown. */
  private async runDel(list: NetworkConfigList, attachment: CniAttachment, prevResult: CniResult | undefined): Promise<void> {
    let first: unknown;
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.invoke('DEL', list, plugin, buildPluginStdin(list, plugin, { prevResult, capabilityArgs: attachment.capabilityArgs }), attachment);
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }

  /** STATUS of every plugin that speaks 1.1.0 (older networks and plugins have no STATUS). */
  async statusNetworkList(list: NetworkConfigList): Promise<void> {
    if (!atLeast(list.cniVersion, '1.1.0')) return;
    for (const plugin of list.plugins) {
      if (!(await this.pluginVersions(plugin.type)).includes('1.1.0')) continue;
      await this.invoke('STATUS', list, plugin, buildPluginStdin(list, plugin));
    }
  }

  /** Garbage-collect: DEL cached attachments of this network that are not valid any more, then
   * GC on every 1.1.0 plugin with the valid ones (spec: cni.dev/valid-attachments). */
  async gcNetworkList(list: NetworkConfigList, valid: Array<{ containerId: string; ifName: string }>): Promise<void> {
    const isValid = (c: string, i: string) => valid.some((v) => v.containerId === c && v.ifName === i);
    for (const entry of await this.cache.list()) {
      if (entry.networkName !== list.name || isValid(entry.containerId, entry.ifName)) continue;
      try {
        await this.delNetworkList(entry.config, { containerId: entry.containerId, ifName: entry.ifName, netns: '', args: entry.args, capabilityArgs: entry.capabilityArgs });
      } catch (err) {
        this.log.warn({ network: list.name, container: entry.containerId, err: (err as Error).message }, 'GC: DEL of a stale attachment failed');
      }
    }
    if (!atLeast(list.cniVersion, '1.1.0') || list.disableGC) return;
    const attachments = valid.map((v) => ({ containerID: v.containerId, ifname: v.ifName }));
    for (const plugin of list.plugins) {
      if (!(await this.pluginVersions(plugin.type)).includes('1.1.0')) continue;
      await this.invoke('GC', list, plugin, { ...buildPluginStdin(list, plugin), 'cni.dev/valid-attachments': attachments });
    }
  }
}
