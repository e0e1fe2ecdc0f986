// The simulated CRI runtime: RuntimeService and ImageService over a unix socket, backed by
// in-memory state. Fast, deterministic, and with fault injection, for integration tests and
// `mini-kubelet dev`.
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';
import { loadCriPackage } from '../proto-loader.ts';
import { FaultInjector } from './faults.ts';
import { ReceivedTraceContext } from './received-trace-context.ts';
import { containerEventStreams } from './event-stream.ts';
import { imageServiceHandlers } from './image-service.ts';
import { runtimeServiceHandlers } from './runtime-service.ts';
import { SimState, type SimStateOptions } from './state.ts';
import { startSimStreamingServer } from './streaming-server.ts';

export interface SimRuntimeOptions extends SimStateOptions {
  /** Where to listen; a stale socket file there is replaced. */
  socketPath: string;
  logger?: Logger;
  /** State of an earlier sim on which to resume (a runtime restart); the other state options
   * are then ignored, except `images`, which are added. */
  state?: SimState;
  /** Fault rules and latencies in place before the first call (default: a fresh, empty injector). */
  faults?: FaultInjector;
  /** Serve GetContainerEvents (default true, as containerd 1.7+); false answers UNIMPLEMENTED, as 1.6. */
  containerEvents?: boolean;
}

export interface SimRuntime {
  /** "unix:///path", ready for CriClient.connect. */
  endpoint: string;
  faults: FaultInjector;
  state: SimState;
  /** The traceparent each RPC's callers sent (the agent's trace, continued into the runtime). */
  traceContext: ReceivedTraceContext;
  /** Stops serving and removes the socket. Like containerd's shims, the state (and its
   * running containers) lives on: pass `state` to a new startSimRuntime to resume it. Its
   * timers do not keep the process alive. */
  stop(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 1000;

export async function startSimRuntime(opts: SimRuntimeOptions): Promise<SimRuntime> {
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'cri-sim' });
  const state = opts.state ?? new SimState(opts);
  if (opts.state) for (const ref of opts.images ?? []) state.images.add(ref);
  const faults = opts.faults ?? new FaultInjector();
  const traceContext = new ReceivedTraceContext();
  const ctx = { faults, log, traceContext };

  const pkg = loadCriPackage();
  const streaming = await startSimStreamingServer(log);
  const events = containerEventStreams({
    ...ctx, feed: state.lifecycle, sandboxes: state.sandboxes, containers: state.containers, enabled: opts.containerEvents ?? true,
  });
  const server = new grpc.Server();
  server.addService(pkg.RuntimeService.service, runtimeServiceHandlers({
    ...ctx,
    sandboxes: state.sandboxes,
    containers: state.containers,
    runtimeHandlers: state.runtimeHandlers,
    conditions: state.conditions,
    streaming,
    containerEvents: events.handler,
  }));
  server.addService(pkg.ImageService.service, imageServiceHandlers({ ...ctx, images: state.images, pulls: state.pulls }));

  await mkdir(dirname(opts.socketPath), { recursive: true });
  await rm(opts.socketPath, { force: true });
  const endpoint = `unix://${opts.socketPath}`;
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(endpoint, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
  });
  log.info({ endpoint }, 'simulated CRI runtime listening');

  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    // Event streams never end by themselves: end them, as a runtime going away breaks them.
    events.endAll();
    await new Promise<void>((resolve) => {
      // In-flight calls (a delayed one, a StopContainer in its grace period) get a moment,
      // then are cut off: the caller sees what a crashed runtime gives it.
      const force = setTimeout(() => { server.forceShutdown(); resolve(); }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => { clearTimeout(force); resolve(); });
    });
    await streaming.stop();
    await rm(opts.socketPath, { force: true });
    log.info({ endpoint }, 'simulated CRI runtime stopped');
  })());

  return { endpoint, faults, state, traceContext, stop };
}
