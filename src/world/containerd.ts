// Runs containerd with a world's own config and waits until its CRI plugin reports the
// runtime ready (RuntimeReady; NetworkReady follows once a CNI config is present).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CriClient } from '../cri/client.ts';
import { renderContainerdConfig, type ContainerdPaths } from './containerd-config.ts';
import { startDaemon, type Daemon } from './daemon.ts';
import { waitFor } from './wait.ts';

export interface RunningContainerd {
  daemon: Daemon;
  endpoint: string;
  configFile: string;
}

/** Waits for RuntimeReady, and also NetworkReady when `expectNetwork` (a CNI config exists). */
export async function startContainerd(dir: string, paths: ContainerdPaths, sandboxImage: string, expectNetwork: boolean, readyTimeoutMs = 30_000): Promise<RunningContainerd> {
  for (const d of [paths.root, paths.state, paths.optDir, ...Object.values(paths.runtimeRoots)]) mkdirSync(d, { recursive: true });
  const configFile = join(dir, 'config.toml');
  writeFileSync(configFile, renderContainerdConfig(paths, sandboxImage));
  const daemon = startDaemon('containerd', 'containerd', ['--config', configFile, '--log-level', 'warn'], join(dir, 'containerd.log'));
  const endpoint = `unix://${paths.socket}`;
  const cri = CriClient.connect(endpoint, { timeoutMs: 2000 });
  try {
    await waitFor(async () => {
      if (!daemon.isRunning()) throw new Error(`containerd exited: ${daemon.logTail(10)}`);
      const { status } = await cri.status();
      const ready = new Set(status?.conditions.filter((c) => c.status).map((c) => c.type));
      return ready.has('RuntimeReady') && (!expectNetwork || ready.has('NetworkReady'));
    }, { timeoutMs: readyTimeoutMs, intervalMs: 100, what: `containerd CRI RuntimeReady${expectNetwork ? ' and NetworkReady' : ''}` });
  } catch (err) {
    await daemon.stop(2000);
    throw err;
  } finally {
    cri.close();
  }
  return { daemon, endpoint, configFile };
}
