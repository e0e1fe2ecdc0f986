// Loads the device plugin (v1beta1) and PodResources (v1) protos at run time, and types the
// messages as the loader produces them: field names kept as written in the .proto
// (keepCase), so `ID`, `devices_ids`, `cdi_devices` read as plugin authors know them.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

export const DEVICE_PLUGIN_API_VERSION = 'v1beta1';
export const HEALTHY = 'Healthy';
export const UNHEALTHY = 'Unhealthy';
/** The agent's socket name inside the device plugin directory. */
export const KUBELET_SOCKET_NAME = 'kubelet.sock';

export interface DevicePluginOptions { pre_start_required: boolean; get_preferred_allocation_available: boolean }
export interface RegisterRequest { version: string; endpoint: string; resource_name: string; options?: DevicePluginOptions | null }
export interface TopologyInfo { nodes: Array<{ ID: number }> }
export interface Device { ID: string; health: string; topology?: TopologyInfo | null }
export interface ListAndWatchResponse { devices: Device[] }
export interface ContainerPreferredAllocationRequest { available_deviceIDs: string[]; must_include_deviceIDs: string[]; allocation_size: number }
export interface PreferredAllocationRequest { container_requests: ContainerPreferredAllocationRequest[] }
export interface PreferredAllocationResponse { container_responses: Array<{ deviceIDs: string[] }> }
export interface AllocateRequest { container_requests: Array<{ devices_ids: string[] }> }
export interface MountSpec { container_path: string; host_path: string; read_only: boolean }
export interface DeviceSpec { container_path: string; host_path: string; permissions: string }
export interface ContainerAllocateResponse {
  envs: Record<string, string>;
  mounts: MountSpec[];
  devices: DeviceSpec[];
  annotations: Record<string, string>;
  cdi_devices: Array<{ name: string }>;
}
export interface AllocateResponse { container_responses: ContainerAllocateResponse[] }
export interface PreStartContainerRequest { devices_ids: string[] }

export interface PodResourcesContainerDevices { resource_name: string; device_ids: string[]; topology?: TopologyInfo | null }
export interface PodResourcesContainer { name: string; devices: PodResourcesContainerDevices[] }
export interface PodResources { name: string; namespace: string; containers: PodResourcesContainer[] }

type ServiceCtor = grpc.ServiceClientConstructor;

function load(file: string): grpc.GrpcObject {
  const path = fileURLToPath(new URL(`./proto/${file}`, import.meta.url));
  return grpc.loadPackageDefinition(protoLoader.loadSync(path, LOADER_OPTIONS));
}

let devicePluginPkg: { Registration: ServiceCtor; DevicePlugin: ServiceCtor } | undefined;
let podResourcesPkg: { PodResourcesLister: ServiceCtor } | undefined;

/** Service constructors of package v1beta1 (Registration, DevicePlugin). */
export function devicePluginServices(): { Registration: ServiceCtor; DevicePlugin: ServiceCtor } {
  devicePluginPkg ??= load('deviceplugin-v1beta1.proto').v1beta1 as unknown as typeof devicePluginPkg;
  return devicePluginPkg!;
}

/** Service constructor of package v1 (PodResourcesLister). */
export function podResourcesServices(): { PodResourcesLister: ServiceCtor } {
  podResourcesPkg ??= load('podresources-v1.proto').v1 as unknown as typeof podResourcesPkg;
  return podResourcesPkg!;
}

/** grpc-js wants unix:<absolute path> for unix sockets. */
export function unixTarget(socketPath: string): string {
  return `unix:${socketPath}`;
}

/** Promise form of a unary client call, with a deadline so a hung plugin cannot stall a sync. */
export function callUnary<Req, Res>(client: grpc.Client, method: string, request: Req, timeoutMs = 10_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, Function>)[method];
    fn.call(client, request, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)));
  });
}

/** Binds a grpc-js server to a unix socket path. */
export function bindUnix(server: grpc.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.bindAsync(unixTarget(socketPath), grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
  });
}

/** Graceful shutdown with a short bound, then force: open ListAndWatch streams never end on their own. */
export function shutdownServer(server: grpc.Server, graceMs = 500): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { server.forceShutdown(); resolve(); }, graceMs);
    server.tryShutdown(() => { clearTimeout(timer); resolve(); });
  });
}
