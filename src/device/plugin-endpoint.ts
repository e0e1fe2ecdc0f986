// The agent's connection to one registered device plugin: dial its socket, read its options,
// follow ListAndWatch, and make the allocation calls. When the stream or socket goes away the
// owner hears onStopped once, and decides what that means for the devices.
import { stat } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  callUnary, devicePluginServices, unixTarget,
  type AllocateResponse, type ContainerAllocateResponse, type Device, type DevicePluginOptions,
  type ListAndWatchResponse, type PreferredAllocationResponse,
} from './protocol.ts';

export interface EndpointHandlers {
  onDevices(devices: Device[]): void;
  onStopped(reason: string): void;
}

const DIAL_TIMEOUT_MS = 10_000;

export class PluginEndpoint {
  private readonly client: grpc.Client;
  private stream?: grpc.ClientReadableStream<ListAndWatchResponse>;
  private stopped = false;
  options: DevicePluginOptions;

  private constructor(readonly resource: string, readonly socketPath: string, options: DevicePluginOptions, private readonly logger: Logger) {
    const { DevicePlugin } = devicePluginServices();
    this.client = new DevicePlugin(unixTarget(socketPath), grpc.credentials.createInsecure());
    this.options = options;
  }

  /** Dials the plugin and asks for its options (falling back to those it registered with). */
  static async connect(resource: string, socketPath: string, registered: DevicePluginOptions, logger: Logger): Promise<PluginEndpoint> {
    // Fail at once, with a clear reason, when nothing is there to dial.
    const socket = await stat(socketPath).catch(() => undefined);
    if (!socket?.isSocket()) throw new Error(`cannot connect to device plugin ${resource}: ${socketPath} is not a socket`);
    const endpoint = new PluginEndpoint(resource, socketPath, registered, logger);
    try {
      await new Promise<void>((resolve, reject) =>
        endpoint.client.waitForReady(Date.now() + DIAL_TIMEOUT_MS, (err) => (err ? reject(err) : resolve())));
      endpoint.options = await callUnary<object, DevicePluginOptions>(endpoint.client, 'GetDevicePluginOptions', {});
    } catch (err) {
      endpoint.client.close();
      throw new Error(`cannot connect to device plugin ${resource} at ${socketPath}: ${(err as Error).message}`);
    }
    return endpoint;
  }

  /** Follows ListAndWatch; every message is the plugin's full device list. */
  watch(handlers: EndpointHandlers): void {
    const typed = (this.client as unknown as { ListAndWatch(req: object): grpc.ClientReadableStream<ListAndWatchResponse> }).ListAndWatch({});
    this.stream = typed;
    let ended = false;
    const end = (reason: string) => {
      if (ended) return;
      ended = true;
      if (!this.stopped) handlers.onStopped(reason);
    };
    typed.on('data', (msg: ListAndWatchResponse) => {
      if (!this.stopped) handlers.onDevices(msg.devices ?? []);
    });
    typed.on('error', (err: grpc.ServiceError) => end(`ListAndWatch failed: ${err.details || err.message}`));
    typed.on('end', () => end('ListAndWatch stream ended'));
  }

  async preferredAllocation(available: string[], mustInclude: string[], size: number): Promise<string[]> {
    const res = await callUnary<object, PreferredAllocationResponse>(this.client, 'GetPreferredAllocation', {
      container_requests: [{ available_deviceIDs: available, must_include_deviceIDs: mustInclude, allocation_size: size }],
    });
    return res.container_responses?.[0]?.deviceIDs ?? [];
  }

  async allocate(deviceIds: string[]): Promise<ContainerAllocateResponse> {
    const res = await callUnary<object, AllocateResponse>(this.client, 'Allocate', { container_requests: [{ devices_ids: deviceIds }] });
    const first = res.container_responses?.[0];
    if (!first) throw new Error(`device plugin ${this.resource} returned no container response from Allocate`);
    return first;
  }

  async preStartContainer(deviceIds: string[]): Promise<void> {
    await callUnary(this.client, 'PreStartContainer', { devices_ids: deviceIds });
  }

  /** Ends the stream and the connection without reporting onStopped (a deliberate stop). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stream?.cancel();
    this.client.close();
    this.logger.debug({ resource: this.resource, socket: this.socketPath }, 'device plugin endpoint closed');
  }
}
