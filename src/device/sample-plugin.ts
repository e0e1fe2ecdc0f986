// A device plugin server, as vendors write them, for tests, teaching and GPU machines. It
// serves DevicePlugin on its own socket in the device plugin directory, registers with the
// agent, and registers again whenever kubelet.sock is recreated (an agent restart), which it
// notices by watching the directory as real plugins do.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  bindUnix, callUnary, DEVICE_PLUGIN_API_VERSION, devicePluginServices, HEALTHY, KUBELET_SOCKET_NAME, shutdownServer, UNHEALTHY, unixTarget,
  type AllocateRequest, type ContainerAllocateResponse, type ContainerPreferredAllocationRequest, type Device,
  type ListAndWatchResponse, type PreferredAllocationRequest, type PreStartContainerRequest,
} from './protocol.ts';
import { sortDeviceIds } from './allocator.ts';

/** What a concrete kind of device (fake FPGA, NVIDIA GPU) supplies to the generic server. */
export interface DeviceBackend {
  resource: string;
  deviceIds: string[];
  /** What a container needs for these devices (device nodes, env, ...). */
  allocate(deviceIds: string[]): ContainerAllocateResponse;
}

export interface DevicePluginServerOptions {
  backend: DeviceBackend;
  pluginDir: string;
  logger: Logger;
  /** Socket file name in pluginDir; default derived from the resource name. */
  endpointName?: string;
  /** Ask the agent to call PreStartContainer before each container start. */
  preStartRequired?: boolean;
  /** GetPreferredAllocation policy; default samplePreferredAllocation. */
  preferredAllocation?: (req: ContainerPreferredAllocationRequest) => string[];
  /** How often to retry a failed registration. */
  retryMs?: number;
}

export interface RunningDevicePlugin {
  socketPath: string;
  /** Marks a device healthy or not and tells every ListAndWatch stream. */
  setHealth(deviceId: string, healthy: boolean): void;
  /** Device ID lists of the PreStartContainer calls received, oldest first. */
  readonly preStartCalls: string[][];
  /** Resolves once the agent accepted a Register call made after `since` (ms epoch). */
  registered(since?: number): Promise<void>;
  stop(): Promise<void>;
}

/** "example.com/fpga" → "example.com-fpga.sock" */
export function defaultEndpointName(resource: string): string {
  return `${resource.replace(/[^A-Za-z0-9._-]/g, '-')}.sock`;
}

/** Picks must-include devices first, then the lowest free IDs: a plain, predictable preference. */
export function samplePreferredAllocation(req: ContainerPreferredAllocationRequest): string[] {
  const picked = [...req.must_include_deviceIDs];
  for (const id of sortDeviceIds(req.available_deviceIDs)) {
    if (picked.length >= req.allocation_size) break;
    if (!picked.includes(id)) picked.push(id);
  }
  return picked;
}

export async function startDevicePluginServer(opts: DevicePluginServerOptions): Promise<RunningDevicePlugin> {
  const { backend, pluginDir } = opts;
  const log = opts.logger.child({ component: 'device-plugin', resource: backend.resource });
  const endpointName = opts.endpointName ?? defaultEndpointName(backend.resource);
  const socketPath = join(pluginDir, endpointName);
  const kubeletSocket = join(pluginDir, KUBELET_SOCKET_NAME);
  const health = new Map(backend.deviceIds.map((id) => [id, HEALTHY]));
  const streams = new Set<grpc.ServerWritableStream<object, ListAndWatchResponse>>();
  const preStartCalls: string[][] = [];
  let stopped = false;
  let lastRegisteredAt = 0;
  const registrationWaiters: Array<{ since: number; resolve: () => void }> = [];

  const deviceList = (): ListAndWatchResponse => ({
    devices: backend.deviceIds.map((id): Device => ({ ID: id, health: health.get(id) ?? UNHEALTHY })),
  });

  const server = new grpc.Server();
  server.addService(devicePluginServices().DevicePlugin.service, {
    GetDevicePluginOptions: (_call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) =>
      cb(null, { pre_start_required: Boolean(opts.preStartRequired), get_preferred_allocation_available: true }),
    ListAndWatch: (call: grpc.ServerWritableStream<object, ListAndWatchResponse>) => {
      streams.add(call);
      call.write(deviceList());
      const forget = () => streams.delete(call);
      call.on('cancelled', forget);
      call.on('close', forget);
    },
    GetPreferredAllocation: (call: grpc.ServerUnaryCall<PreferredAllocationRequest, object>, cb: grpc.sendUnaryData<object>) =>
      cb(null, { container_responses: call.request.container_requests.map((r) => ({ deviceIDs: (opts.preferredAllocation ?? samplePreferredAllocation)(r) })) }),
    Allocate: (call: grpc.ServerUnaryCall<AllocateRequest, object>, cb: grpc.sendUnaryData<object>) => {
      for (const r of call.request.container_requests) {
        const bad = r.devices_ids.find((id) => health.get(id) !== HEALTHY);
        if (bad) return cb({ code: grpc.status.INVALID_ARGUMENT, details: `device ${bad} is unknown or unhealthy` });
      }
      log.info({ requests: call.request.container_requests.map((r) => r.devices_ids) }, 'Allocate');
      cb(null, { container_responses: call.request.container_requests.map((r) => backend.allocate(r.devices_ids)) });
    },
    PreStartContainer: (call: grpc.ServerUnaryCall<PreStartContainerRequest, object>, cb: grpc.sendUnaryData<object>) => {
      preStartCalls.push([...call.request.devices_ids]);
      cb(null, {});
    },
  });
  // The plugin may start before the agent made the directory; it waits there for kubelet.sock.
  await mkdir(pluginDir, { recursive: true, mode: 0o750 });
  await rm(socketPath, { force: true });
  await bindUnix(server, socketPath);
  log.info({ socket: socketPath, devices: backend.deviceIds }, 'device plugin serving');

  // Registration: once now, and again whenever kubelet.sock is created anew (the agent
  // restarted; inode numbers may repeat, so every create event counts), retrying on failure.
  let registering = false;
  let again = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const tryRegister = async (): Promise<void> => {
    if (stopped) return;
    if (registering) { again = true; return; }
    registering = true;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = undefined; }
    try {
      await stat(kubeletSocket);
      const { Registration } = devicePluginServices();
      const client = new Registration(unixTarget(kubeletSocket), grpc.credentials.createInsecure());
      try {
        await callUnary(client, 'Register', {
          version: DEVICE_PLUGIN_API_VERSION, endpoint: endpointName, resource_name: backend.resource,
          options: { pre_start_required: Boolean(opts.preStartRequired), get_preferred_allocation_available: true },
        }, 15_000);
      } finally {
        client.close();
      }
      lastRegisteredAt = Date.now();
      log.info({ kubeletSocket }, 'registered with the agent');
      for (const w of registrationWaiters.splice(0)) {
        if (w.since <= lastRegisteredAt) w.resolve();
        else registrationWaiters.push(w);
      }
    } catch (err) {
      // No kubelet.sock yet: the directory watch calls again when it appears.
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (!missing) log.warn({ err: (err as Error).message }, 'registration failed; retrying');
      if (!stopped && !missing) retryTimer = setTimeout(() => void tryRegister(), opts.retryMs ?? 2000);
    } finally {
      registering = false;
    }
    if (again) { again = false; await tryRegister(); }
  };
  let debounce: NodeJS.Timeout | undefined;
  const watcher: FSWatcher = watch(pluginDir, (_event, file) => {
    if (file !== KUBELET_SOCKET_NAME || stopped) return;
    // The agent removes, then binds: act once the directory settles.
    clearTimeout(debounce);
    debounce = setTimeout(() => void tryRegister(), 50);
  });
  await tryRegister();

  return {
    socketPath,
    preStartCalls,
    setHealth(deviceId, healthy) {
      if (!health.has(deviceId)) throw new Error(`no device ${deviceId} (have ${backend.deviceIds.join(', ')})`);
      health.set(deviceId, healthy ? HEALTHY : UNHEALTHY);
      log.info({ device: deviceId, healthy }, 'device health changed');
      const list = deviceList();
      for (const s of streams) s.write(list);
    },
    registered(since = 0) {
      if (lastRegisteredAt && lastRegisteredAt >= since) return Promise.resolve();
      return new Promise((resolve) => registrationWaiters.push({ since, resolve }));
    },
    async stop() {
      stopped = true;
      watcher.close();
      clearTimeout(debounce);
      if (retryTimer) clearTimeout(retryTimer);
      for (const s of streams) s.end();
      streams.clear();
      await shutdownServer(server);
      await rm(socketPath, { force: true });
    },
  };
}
