// The Registration service on <device-plugin-dir>/kubelet.sock. It checks what a plugin
// announces (API version, resource name, endpoint file name) and hands valid requests on.
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { extendedResourceNameError } from './resource-name.ts';
import { bindUnix, DEVICE_PLUGIN_API_VERSION, devicePluginServices, KUBELET_SOCKET_NAME, shutdownServer, type RegisterRequest } from './protocol.ts';

/** Returns why a registration is refused, or undefined when it is acceptable. */
export function registrationError(req: RegisterRequest): string | undefined {
  if (req.version !== DEVICE_PLUGIN_API_VERSION) {
    return `requested device plugin API version "${req.version}" is not supported by mini-kubelet (supported: ${DEVICE_PLUGIN_API_VERSION})`;
  }
  const nameError = extendedResourceNameError(req.resource_name);
  if (nameError) return `invalid extended resource name: ${nameError}`;
  if (!req.endpoint || basename(req.endpoint) !== req.endpoint || req.endpoint === KUBELET_SOCKET_NAME) {
    return `endpoint "${req.endpoint}" must be a socket file name inside the device plugin directory`;
  }
  return undefined;
}

export interface RegistrationServer {
  socketPath: string;
  stop(): Promise<void>;
}

/** Serves Registration; `onRegister` connects to the plugin and rejects when that fails. */
export async function startRegistrationServer(
  pluginDir: string,
  onRegister: (req: RegisterRequest, socketPath: string) => Promise<void>,
  logger: Logger,
): Promise<RegistrationServer> {
  await mkdir(pluginDir, { recursive: true, mode: 0o750 });
  const socketPath = join(pluginDir, KUBELET_SOCKET_NAME);
  // A socket left by a previous agent would make bind fail; plugins re-register on the new one.
  await rm(socketPath, { force: true });
  const server = new grpc.Server();
  server.addService(devicePluginServices().Registration.service, {
    Register: (call: grpc.ServerUnaryCall<RegisterRequest, object>, callback: grpc.sendUnaryData<object>) => {
      const req = call.request;
      const refused = registrationError(req);
      if (refused) {
        logger.warn({ resource: req.resource_name, endpoint: req.endpoint, reason: refused }, 'device plugin registration refused');
        callback({ code: grpc.status.INVALID_ARGUMENT, details: refused });
        return;
      }
      onRegister(req, join(pluginDir, req.endpoint)).then(
        () => callback(null, {}),
        (err: Error) => callback({ code: grpc.status.UNAVAILABLE, details: err.message }),
      );
    },
  });
  await bindUnix(server, socketPath);
  logger.info({ socket: socketPath }, 'device plugin registration server listening');
  return {
    socketPath,
    async stop() {
      await shutdownServer(server);
      await rm(socketPath, { force: true });
    },
  };
}
