// `mini-kubelet cni install`: put the delegate plugin into the runtime's CNI bin dir and a
// conflist naming it into the runtime's CNI conf dir, so the runtime hands pod networking to
// the agent. The plugin is a sh wrapper exec'ing this node with an absolute path to the plain
// .mjs delegate (no tsx: it runs once per sandbox and must start fast).
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_AGENT_SOCKET } from './delegate/protocol.mjs';

export const DELEGATE_PLUGIN_TYPE = 'mini-kubelet-delegate';
export const DELEGATE_SCRIPT = fileURLToPath(new URL('./delegate/mini-kubelet-delegate.mjs', import.meta.url));

export interface InstallDelegateOptions {
  confDir: string;
  binDir: string;
  socketPath?: string;
  networkName?: string;
  /** File name in confDir; "00-" so runtimes that take the first file take ours. */
  confFileName?: string;
  nodePath?: string;
}

export interface InstalledDelegate {
  pluginPath: string;
  confPath: string;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Write then rename, so a runtime reading the file never sees half of it. */
async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

export function delegateConflist(networkName: string, socketPath: string): Record<string, unknown> {
  return { cniVersion: '1.0.0', name: networkName, plugins: [{ type: DELEGATE_PLUGIN_TYPE, socket: socketPath }] };
}

export async function installDelegate(opts: InstallDelegateOptions): Promise<InstalledDelegate> {
  const socketPath = opts.socketPath ?? DEFAULT_AGENT_SOCKET;
  await mkdir(opts.binDir, { recursive: true });
  await mkdir(opts.confDir, { recursive: true });
  const pluginPath = join(opts.binDir, DELEGATE_PLUGIN_TYPE);
  const wrapper = `#!/bin/sh\n# Installed by mini-kubelet cni install: hands CNI requests to the agent.\nexec ${shQuote(opts.nodePath ?? process.execPath)} ${shQuote(DELEGATE_SCRIPT)} "$@"\n`;
  await writeAtomically(pluginPath, wrapper, 0o755);
  const confPath = join(opts.confDir, opts.confFileName ?? '00-mini-kubelet.conflist');
  await writeAtomically(confPath, `${JSON.stringify(delegateConflist(opts.networkName ?? 'mini-kubelet', socketPath), null, 2)}\n`, 0o644);
  return { pluginPath, confPath };
}
