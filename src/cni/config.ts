// Network configurations: read --cni-conf-dir, validate each file, pick the network to use.
// Every problem is a CniConfigError naming the file and the field, so it surfaces when the
// agent starts rather than when the first pod fails.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CniConfigError } from './errors.ts';
import { compareCniVersions, isCniVersion, isSupportedCniVersion, SUPPORTED_CNI_VERSIONS } from './version.ts';

/** One plugin of a chain, as written in the file (unknown fields are passed through). */
export interface PluginConfig {
  type: string;
  /** Runtime capabilities the plugin wants in runtimeConfig (portMappings, bandwidth, ...). */
  capabilities?: Record<string, boolean>;
  [field: string]: unknown;
}

export interface NetworkConfigList {
  /** The file it came from (for messages and the result cache). */
  file: string;
  name: string;
  cniVersion: string;
  disableCheck: boolean;
  disableGC: boolean;
  plugins: PluginConfig[];
}

const CONFIG_EXTENSIONS = ['.conflist', '.conf', '.json'];
// The spec's rule for network names (they end up in file names and iptables comments).
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseBool(file: string, field: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  // libcni also accepts the strings "true"/"false" here; so do we.
  if (v === 'true' || v === 'false') return v === 'true';
  throw new CniConfigError(file, field, `must be a boolean, got ${JSON.stringify(v)}`);
}

/** cniVersion, or the highest supported entry of cniVersions (spec 1.1). */
function pickVersion(file: string, obj: Record<string, unknown>): string {
  if (obj.cniVersions !== undefined) {
    if (!Array.isArray(obj.cniVersions) || !obj.cniVersions.every(isCniVersion)) {
      throw new CniConfigError(file, 'cniVersions', 'must be a list of versions such as "1.0.0"');
    }
    const usable = (obj.cniVersions as string[]).filter(isSupportedCniVersion).sort(compareCniVersions);
    if (usable.length) return usable[usable.length - 1];
    if (obj.cniVersion === undefined) {
      throw new CniConfigError(file, 'cniVersions', `none of ${JSON.stringify(obj.cniVersions)} is supported (${SUPPORTED_CNI_VERSIONS.join(', ')})`);
    }
  }
  if (obj.cniVersion === undefined) throw new CniConfigError(file, 'cniVersion', 'is required');
  if (!isCniVersion(obj.cniVersion)) throw new CniConfigError(file, 'cniVersion', `must look like "1.0.0", got ${JSON.stringify(obj.cniVersion)}`);
  if (!isSupportedCniVersion(obj.cniVersion)) {
    throw new CniConfigError(file, 'cniVersion', `${obj.cniVersion} is not supported (${SUPPORTED_CNI_VERSIONS.join(', ')})`);
  }
  return obj.cniVersion;
}

function validatePlugin(file: string, field: string, p: unknown): PluginConfig {
  const at = (sub: string) => (field ? `${field}.${sub}` : sub);
  if (!isObject(p)) throw new CniConfigError(file, field, 'must be an object');
  if (typeof p.type !== 'string' || p.type === '') throw new CniConfigError(file, at('type'), 'is required (the plugin binary name)');
  if (p.type.includes('/') || p.type.startsWith('.')) {
    throw new CniConfigError(file, at('type'), `must be a plain binary name, got "${p.type}"`);
  }
  if (p.capabilities !== undefined) {
    if (!isObject(p.capabilities) || !Object.values(p.capabilities).every((v) => typeof v === 'boolean')) {
      throw new CniConfigError(file, at('capabilities'), 'must map capability names to true/false');
    }
  }
  return p as PluginConfig;
}

function validateName(file: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new CniConfigError(file, 'name', 'is required');
  if (!NETWORK_NAME.test(v)) throw new CniConfigError(file, 'name', `"${v}" may only hold letters, digits, "_", "." and "-"`);
  return v;
}

/** Parse and validate one file's text. A .conf/.json holding a single plugin becomes a list of one. */
export function parseNetworkConfig(file: string, text: string): NetworkConfigList {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new CniConfigError(file, '', `is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(obj)) throw new CniConfigError(file, '', 'must hold a JSON object');
  const isList = file.endsWith('.conflist') || obj.plugins !== undefined;
  const name = validateName(file, obj.name);
  const cniVersion = pickVersion(file, obj);
  const disableCheck = parseBool(file, 'disableCheck', obj.disableCheck);
  const disableGC = parseBool(file, 'disableGC', obj.disableGC);
  let plugins: PluginConfig[];
  if (isList) {
    if (!Array.isArray(obj.plugins) || obj.plugins.length === 0) {
      throw new CniConfigError(file, 'plugins', 'must be a non-empty list of plugin configurations');
    }
    plugins = obj.plugins.map((p, i) => validatePlugin(file, `plugins[${i}]`, p));
  } else {
    plugins = [validatePlugin(file, '', obj)];
  }
  return { file, name, cniVersion, disableCheck, disableGC, plugins };
}

/** Every configuration in the directory, in lexicographic file order. */
export async function loadNetworkConfigs(confDir: string): Promise<NetworkConfigList[]> {
  let names: string[];
  try {
    names = await readdir(confDir);
  } catch (err) {
    throw new CniConfigError(confDir, '', `cannot read the configuration directory: ${(err as Error).message}`);
  }
  const files = names.filter((n) => CONFIG_EXTENSIONS.some((ext) => n.endsWith(ext))).sort();
  const lists: NetworkConfigList[] = [];
  for (const name of files) {
    const path = join(confDir, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new CniConfigError(path, '', `cannot be read: ${(err as Error).message}`);
    }
    lists.push(parseNetworkConfig(path, text));
  }
  return lists;
}

/** The network to use: the one named, else the first file's. */
export function selectNetwork(confDir: string, lists: NetworkConfigList[], networkName?: string): NetworkConfigList {
  if (lists.length === 0) throw new CniConfigError(confDir, '', 'holds no network configuration (.conflist, .conf or .json)');
  if (!networkName) return lists[0];
  const found = lists.find((l) => l.name === networkName);
  if (!found) {
    throw new CniConfigError(confDir, 'name', `no network named "${networkName}" (found: ${lists.map((l) => l.name).join(', ')})`);
  }
  return found;
}

/** Load the directory and pick the network: what the agent does at start. */
export async function loadNetwork(confDir: string, networkName?: string): Promise<NetworkConfigList> {
  return selectNetwork(confDir, await loadNetworkConfigs(confDir), networkName);
}
