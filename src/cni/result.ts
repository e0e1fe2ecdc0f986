// CNI results and errors as typed values. Results of every supported version are held in
// the 1.0 shape (0.3.x/0.4.0 differ only by a "version" field on each IP) and converted back
// to whatever version a caller asked for.
import { CniErrorCode, CniPluginError } from './errors.ts';
import { compareCniVersions, isCniVersion, isSupportedCniVersion } from './version.ts';

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** Netns path for interfaces inside the container; absent for host-side ones. */
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface CniIpConfig {
  /** CIDR notation: "10.22.0.5/24". */
  address: string;
  gateway?: string;
  /** Index into interfaces. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  cniVersion: string;
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  routes: CniRoute[];
  dns: CniDns;
}

/** An exit without a CNI error object on stdout (crash, missing binary, timeout). */
export const NO_ERROR_OBJECT_CODE = 999;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeFailure(plugin: string, what: string): CniPluginError {
  return new CniPluginError(CniErrorCode.decodeFailure, `cannot decode the result: ${what}`, '', plugin);
}

function stringList(plugin: string, field: string, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw decodeFailure(plugin, `${field} must be a list of strings`);
  return v;
}

/** Parse a result object (already JSON-decoded) of any supported version into the 1.0 shape. */
export function parseResult(raw: unknown, fallbackVersion: string, plugin = ''): CniResult {
  if (!isObject(raw)) throw decodeFailure(plugin, 'not a JSON object');
  const cniVersion = raw.cniVersion === undefined ? fallbackVersion : raw.cniVersion;
  if (!isCniVersion(cniVersion) || !isSupportedCniVersion(cniVersion)) {
    throw new CniPluginError(CniErrorCode.incompatibleVersion, `result version ${JSON.stringify(cniVersion)} is not supported`, '', plugin);
  }
  const list = (field: string): Record<string, unknown>[] => {
    const v = raw[field];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every(isObject)) throw decodeFailure(plugin, `${field} must be a list of objects`);
    return v as Record<string, unknown>[];
  };
  const interfaces = list('interfaces').map((i, n): CniInterface => {
    if (typeof i.name !== 'string') throw decodeFailure(plugin, `interfaces[${n}].name is required`);
    const out: CniInterface = { name: i.name };
    for (const k of ['mac', 'sandbox', 'socketPath', 'pciID'] as const) if (typeof i[k] === 'string') out[k] = i[k] as string;
    if (typeof i.mtu === 'number') out.mtu = i.mtu;
    return out;
  });
  const ips = list('ips').map((ip, n): CniIpConfig => {
    if (typeof ip.address !== 'string' || !ip.address.includes('/')) throw decodeFailure(plugin, `ips[${n}].address must be a CIDR`);
    const out: CniIpConfig = { address: ip.address };
    if (typeof ip.gateway === 'string') out.gateway = ip.gateway;
    if (typeof ip.interface === 'number') out.interface = ip.interface;
    return out;
  });
  const routes = list('routes').map((r, n): CniRoute => {
    if (typeof r.dst !== 'string') throw decodeFailure(plugin, `routes[${n}].dst is required`);
    const out: CniRoute = { dst: r.dst };
    if (typeof r.gw === 'string') out.gw = r.gw;
    for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) if (typeof r[k] === 'number') out[k] = r[k] as number;
    return out;
  });
  let dns: CniDns = {};
  if (raw.dns !== undefined && raw.dns !== null) {
    if (!isObject(raw.dns)) throw decodeFailure(plugin, 'dns must be an object');
    const d = raw.dns;
    dns = {
      ...(stringList(plugin, 'dns.nameservers', d.nameservers) ? { nameservers: d.nameservers as string[] } : {}),
      ...(typeof d.domain === 'string' ? { domain: d.domain } : {}),
      ...(stringList(plugin, 'dns.search', d.search) ? { search: d.search as string[] } : {}),
      ...(stringList(plugin, 'dns.options', d.options) ? { options: d.options as string[] } : {}),
    };
  }
  return { cniVersion, interfaces, ips, routes, dns };
}

/** The result as JSON of the requested version (what goes on stdout or into prevResult). */
export function resultAsVersion(result: CniResult, cniVersion: string): Record<string, unknown> {
  if (!isSupportedCniVersion(cniVersion)) {
    throw new CniPluginError(CniErrorCode.incompatibleVersion, `cannot convert a result to version ${cniVersion}`);
  }
  const before1 = compareCniVersions(cniVersion, '1.0.0') < 0;
  const ips = result.ips.map((ip) => (before1 ? { version: ip.address.includes(':') ? '6' : '4', ...ip } : { ...ip }));
  const out: Record<string, unknown> = { cniVersion, interfaces: result.interfaces, ips, routes: result.routes };
  if (Object.keys(result.dns).length) out.dns = result.dns;
  return out;
}

/** The addresses without their prefix length, in result order (the first is the primary IP). */
export function ipsOfResult(result: CniResult): string[] {
  return result.ips.map((ip) => ip.address.split('/')[0]);
}

/** Parse a failed plugin's stdout into a CniPluginError; falls back to stderr when stdout has no error object. */
export function parseCniError(stdout: string, stderr: string, plugin: string, fallbackMsg: string): CniPluginError {
  try {
    const obj = JSON.parse(stdout) as unknown;
    if (isObject(obj) && typeof obj.code === 'number') {
      return new CniPluginError(obj.code, typeof obj.msg === 'string' ? obj.msg : '', typeof obj.details === 'string' ? obj.details : '', plugin);
    }
  } catch {
    // Not JSON: the plugin crashed or printed text; report what it said.
  }
  const said = (stderr.trim() || stdout.trim()).slice(0, 2000);
  return new CniPluginError(NO_ERROR_OBJECT_CODE, fallbackMsg, said, plugin);
}
