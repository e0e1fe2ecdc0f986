// Containers of the simulated runtime and their lifecycle: created → running → exited.
// A started container plays its ProcessPlan (process.ts) on timers: each line it prints is
// appended to its CRI log file as it happens, each `sleep` waits; it exits by itself, or runs
// until StopContainer, StopPodSandbox or RemoveContainer ends it.
import { isAbsolute, join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { ContainerConfig__Output } from '../generated/runtime/v1/ContainerConfig.ts';
import type { ContainerFilter__Output } from '../generated/runtime/v1/ContainerFilter.ts';
import type { ContainerMetadata__Output } from '../generated/runtime/v1/ContainerMetadata.ts';
import type { ContainerState__Output } from '../generated/runtime/v1/ContainerState.ts';
import type { LinuxContainerResources__Output } from '../generated/runtime/v1/LinuxContainerResources.ts';
import { newId, nowNs } from './clock.ts';
import { invalidArgument, notFound, SimError } from './errors.ts';
import { matchesLabels, resolveId } from './filters.ts';
import type { ImageStore, SimImage } from './images.ts';
import { appendCriLog, criLogLine } from './log-file.ts';
import { appendFileSync } from 'node:fs';
import type { Effect } from './shell.ts';
import { planProcess, type ProcessPlan } from './process.ts';
import type { SandboxStore, SimSandbox } from './sandboxes.ts';
import type { LifecycleChange, LifecycleFeed } from './lifecycle-feed.ts';

/** Exit code of a process ended by SIGKILL (128 + 9). */
export const KILLED_EXIT_CODE = 137;

export interface SimContainer {
  id: string;
  sandboxId: string;
  metadata: ContainerMetadata__Output;
  config: ContainerConfig__Output;
  image: SimImage;
  state: ContainerState__Output;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  /** Absolute host path: the sandbox's log_directory joined with the config's log_path. */
  logPath: string;
  resources: LinuxContainerResources__Output | null;
  plan: ProcessPlan;
  reservedName: string;
  /** Pending end of a `sleep` of its script. */
  exitTimer?: NodeJS.Timeout;
  /** Pending SIGKILL at the end of a stop's grace period. */
  killTimer?: NodeJS.Timeout;
  /** Settles when the container exits; set while it runs. */
  exited?: Promise<void>;
  markExited?: () => void;
}

export class ContainerStore {
  readonly byId = new Map<string, SimContainer>();
  private readonly names = new Map<string, string>();

  constructor(private readonly sandboxes: SandboxStore, private readonly images: ImageStore, private readonly feed?: LifecycleFeed) {}

  create(sandboxId: string, config: ContainerConfig__Output | null): SimContainer {
    const sandbox = this.sandboxes.get(sandboxId);
    const metadata = config?.metadata;
    if (!config || !metadata?.name) throw invalidArgument('container config must include metadata with a name');
    if (sandbox.state !== 'SANDBOX_READY') {
      throw new SimError(status.UNKNOWN, `failed to create containerd container: sandbox "${sandbox.id}" is not running`);
    }
    const imageRef = config.image?.image ?? '';
    const image = this.images.resolve(imageRef);
    if (!image) throw new SimError(status.NOT_FOUND, `failed to get image "${imageRef}": not found`);
    const pod = sandbox.metadata;
    const reservedName = `${metadata.name}_${pod.name}_${pod.namespace}_${pod.uid}_${metadata.attempt}`;
    const holder = this.names.get(reservedName);
    if (holder) {
      throw new SimError(status.UNKNOWN, `failed to reserve container name "${reservedName}": name "${reservedName}" is reserved for "${holder}"`);
    }
    const container: SimContainer = {
      id: newId(),
      sandboxId: sandbox.id,
      metadata,
      config,
      image,
      state: 'CONTAINER_CREATED',
      createdAt: nowNs(),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      reason: '',
      message: '',
      logPath: logPathOf(sandbox, config),
      resources: config.linux?.resources ?? null,
      plan: planProcess([...config.command, ...config.args]),
      reservedName,
    };
    this.names.set(reservedName, container.id);
    this.byId.set(container.id, container);
    this.announce('CONTAINER_CREATED_EVENT', container);
    return container;
  }

  get(idOrPrefix: string): SimContainer {
    const id = resolveId(this.byId, idOrPrefix);
    const container = id ? this.byId.get(id) : undefined;
    if (!container) throw notFound('container', idOrPrefix);
    return container;
  }

  find(idOrPrefix: string): SimContainer | undefined {
    const id = resolveId(this.byId, idOrPrefix);
    return id ? this.byId.get(id) : undefined;
  }

  async start(idOrPrefix: string): Promise<void> {
    const c = this.get(idOrPrefix);
    if (c.state !== 'CONTAINER_CREATED') {
      throw new SimError(status.UNKNOWN, `failed to set starting state for container "${c.id}": container is in ${c.state} state`);
    }
    const sandbox = this.sandboxes.get(c.sandboxId);
    if (sandbox.state !== 'SANDBOX_READY') {
      throw new SimError(status.UNKNOWN, `sandbox container "${sandbox.id}" is not running`);
    }
    if (c.logPath) await appendCriLog(c.logPath, []);
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = nowNs();
    c.exited = new Promise<void>((resolve) => { c.markExited = resolve; });
    this.announce('CONTAINER_STARTED_EVENT', c);
    this.play(c, c.plan.run({ hostname: sandbox.config.hostname || sandbox.metadata.name, env: c.config.envs ?? [] }));
  }

  /** Drives a script: runs it until it sleeps, writes what it printed, and goes on when the
   * sleep is over; a script that returns has exited. Synchronous up to its first sleep, so a
   * command such as `exit 3` has exited when StartContainer answers. */
  private play(c: SimContainer, script: Generator<Effect, number>): void {
    // setTimeout holds at most 2^31-1 ms (24.8 days); a longer sleep waits in pieces.
    const wait = (ms: number): void => {
      const now = Math.min(ms, 2 ** 31 - 1);
      c.exitTimer = setTimeout(() => (ms > now ? wait(ms - now) : step()), now).unref();
    };
    const step = (): void => {
      c.exitTimer = undefined;
      if (c.state !== 'CONTAINER_RUNNING') return;
      let lines = '';
      const flush = () => {
        if (lines && c.logPath) appendFileSync(c.logPath, lines);
        lines = '';
      };
      for (;;) {
        let next: IteratorResult<Effect, number>;
        try {
          next = script.next();
        } catch (err) {
          // A bug in the sim's shell must not take the runtime down: the container fails, visibly.
          lines += criLogLine('stderr', `sim-runtime: internal error while playing the command: ${(err as Error).message}`);
          next = { done: true, value: 127 };
        }
        if (next.done) {
          flush();
          this.finish(c, next.value);
          return;
        }
        const effect = next.value;
        if (effect.k === 'out') lines += criLogLine(effect.stream, effect.text);
        else if (effect.k === 'forever') return flush();
        else if (effect.k === 'sleep') {
          flush();
          wait(effect.ms);
          return;
        }
      }
    };
    step();
  }

  /** Ends a running container. The process model decides how it reacts to SIGTERM: a plain
   * process exits at once (0); one with a `trap` holds out for the grace period, then is
   * killed (137). A grace period of 0 kills at once. Resolves once it has exited. */
  async stop(c: SimContainer, timeoutSeconds: number): Promise<void> {
    if (c.state !== 'CONTAINER_RUNNING') return;
    if (timeoutSeconds <= 0) this.finish(c, KILLED_EXIT_CODE);
    else if (!c.plan.ignoresTerm) this.finish(c, 0);
    else c.killTimer ??= setTimeout(() => this.finish(c, KILLED_EXIT_CODE), timeoutSeconds * 1000).unref();
    await c.exited;
  }

  /** Kills it if needed and forgets it. Idempotent. */
  remove(idOrPrefix: string): void {
    const c = this.find(idOrPrefix);
    if (!c) return;
    if (c.state === 'CONTAINER_RUNNING') this.finish(c, KILLED_EXIT_CODE);
    this.names.delete(c.reservedName);
    this.byId.delete(c.id);
    this.announce('CONTAINER_DELETED_EVENT', c);
  }

  inSandbox(sandboxId: string): SimContainer[] {
    return [...this.byId.values()].filter((c) => c.sandboxId === sandboxId);
  }

  list(filter: ContainerFilter__Output | null): SimContainer[] {
    const id = filter?.id ? resolveId(this.byId, filter.id) : undefined;
    if (filter?.id && !id) return [];
    const sandboxId = filter?.podSandboxId ? resolveId(this.sandboxes.byId, filter.podSandboxId) : undefined;
    if (filter?.podSandboxId && !sandboxId) return [];
    return [...this.byId.values()].filter((c) =>
      (!id || c.id === id) &&
      (!sandboxId || c.sandboxId === sandboxId) &&
      (!filter?.state || c.state === filter.state.state) &&
      matchesLabels(c.config.labels, filter?.labelSelector));
  }

  updateResources(idOrPrefix: string, linux: LinuxContainerResources__Output | null): void {
    const c = this.get(idOrPrefix);
    if (c.state !== 'CONTAINER_CREATED' && c.state !== 'CONTAINER_RUNNING') {
      throw new SimError(status.UNKNOWN, `container "${c.id}" is in ${c.state} state`);
    }
    if (linux) c.resources = linux;
  }

  /** Ends every running container at once with SIGKILL, as a node reboot would. */
  killAll(): void {
    for (const c of this.byId.values()) if (c.state === 'CONTAINER_RUNNING') this.finish(c, KILLED_EXIT_CODE);
  }

  /** Ends a running container from outside, as a crash or the OOM killer would
   * (e.g. exitCode 137, reason "OOMKilled"). Returns false if it was not running. */
  crash(idOrPrefix: string, exitCode: number, reason?: string, message = ''): boolean {
    const c = this.get(idOrPrefix);
    if (c.state !== 'CONTAINER_RUNNING') return false;
    this.finish(c, exitCode, reason, message);
    return true;
  }

  private finish(c: SimContainer, exitCode: number, reason?: string, message = ''): void {
    if (c.state !== 'CONTAINER_RUNNING') return;
    clearTimeout(c.exitTimer);
    clearTimeout(c.killTimer);
    c.exitTimer = c.killTimer = undefined;
    c.state = 'CONTAINER_EXITED';
    c.finishedAt = nowNs();
    c.exitCode = exitCode;
    c.reason = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
    c.message = message;
    c.markExited?.();
    this.announce('CONTAINER_STOPPED_EVENT', c);
  }

  private announce(type: LifecycleChange['type'], c: SimContainer): void {
    this.feed?.announce({ type, containerId: c.id, sandboxId: c.sandboxId });
  }
}

function logPathOf(sandbox: SimSandbox, config: ContainerConfig__Output): string {
  if (!config.logPath) return '';
  if (sandbox.config.logDirectory) return join(sandbox.config.logDirectory, config.logPath);
  return isAbsolute(config.logPath) ? config.logPath : '';
}
