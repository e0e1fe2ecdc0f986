// What the executor's steps share: the CRI clients, the network and device lines, paths,
// the clock and the two backoffs; plus a helper that logs one line per step.
import type { Logger } from 'pino';
import type { CriClient } from '../client.ts';
import type { SandboxNetwork } from '../../cni/sandbox-network.ts';
import type { ContainerDevices } from '../../device/container-devices.ts';
import type { Backoff } from './backoff.ts';
import type { ResolvConf } from './dns.ts';
import { podLogFields, type PodRef } from '../../pod/pod-ref.ts';

export interface ExecutorDeps {
  runtime: CriClient;
  image: CriClient;
  network: SandboxNetwork;
  devices: ContainerDevices;
  rootDir: string;
  podLogsDir: string;
  allowPrivileged: boolean;
  logger: Logger;
  clock: () => number;
  resolvConf: ResolvConf;
  /** Container restarts, keyed by pod uid + container name + spec hash. */
  containerBackoff: Backoff;
  /** Image pulls, keyed by pod uid + image. */
  imageBackoff: Backoff;
}

/** Runs one step and logs it (pod, uid, step, container, ms); failures are logged and rethrown. */
export async function step<T>(deps: ExecutorDeps, pod: PodRef, name: string, container: string | undefined, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const fields = { ...podLogFields(pod), step: name, ...(container !== undefined ? { container } : {}) };
  try {
    const out = await fn();
    deps.logger.info({ ...fields, ms: Math.round(performance.now() - started) }, 'step done');
    return out;
  } catch (err) {
    deps.logger.info({ ...fields, ms: Math.round(performance.now() - started), err: err instanceof Error ? err.message : String(err) }, 'step failed');
    throw err;
  }
}
