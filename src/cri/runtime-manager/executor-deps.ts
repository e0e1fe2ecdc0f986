// What the executor's steps share: the CRI clients, the network and device lines, paths,
// the clock and the two backoffs, what the steps count and time (ExecutorMetrics); plus a
// helper that logs one line per step and times it.
import type { Logger } from 'pino';
import type { CriClient } from '../client.ts';
import type { SandboxNetwork } from '../../cni/sandbox-network.ts';
import type { ContainerDevices } from '../../device/container-devices.ts';
import type { Backoff } from './backoff.ts';
import type { TeardownRetries } from './teardown-retries.ts';
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
  metrics: ExecutorMetrics;
  /** Sandboxes whose stop (network teardown) failed, retried with backoff; absent: not retried
   * beyond the callers' own retries (the garbage collector's). */
  teardowns?: TeardownRetries;
}

/** The kubelet's container_type label: which list of the pod spec a container is in. */
export type ContainerType = 'container' | 'init_container' | 'ephemeral_container';

/** What the executor reports as it goes, with the kubelet's meaning: a pod "starts" when its
 * sandbox is made (kubelet_started_pods_*), a container each time it is started, image pull
 * included, after its restart backoff (kubelet_started_containers_*); every step() is timed. */
export interface ExecutorMetrics {
  podStarting(): void;
  podStartFailed(): void;
  containerStarting(type: ContainerType): void;
  /** `code`: the failure's reason (ErrImagePull, CreateContainerError, RunContainerError, ...). */
  containerStartFailed(type: ContainerType, code: string): void;
  stepDone(step: string, seconds: number): void;
}

export const noExecutorMetrics: ExecutorMetrics = {
  podStarting() {}, podStartFailed() {}, containerStarting() {}, containerStartFailed() {}, stepDone() {},
};

/** Runs one step and logs it (pod, uid, step, container, ms); failures are logged and rethrown. */
export async function step<T>(deps: ExecutorDeps, pod: PodRef, name: string, container: string | undefined, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const fields = { ...podLogFields(pod), step: name, ...(container !== undefined ? { container } : {}) };
  try {
    const out = await fn();
    const ms = performance.now() - started;
    deps.metrics.stepDone(name, ms / 1000);
    deps.logger.info({ ...fields, ms: Math.round(ms) }, 'step done');
    return out;
  } catch (err) {
    const ms = performance.now() - started;
    deps.metrics.stepDone(name, ms / 1000);
    deps.logger.info({ ...fields, ms: Math.round(ms), err: err instanceof Error ? err.message : String(err) }, 'step failed');
    throw err;
  }
}
