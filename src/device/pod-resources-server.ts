// The PodResources API (v1) on <root-dir>/pod-resources/kubelet.sock: which devices each
// running container holds, and which devices the node can give. Monitoring agents (for
// example NVIDIA's DCGM exporter) read it to label GPU metrics with pod names.
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { bindUnix, podResourcesServices, shutdownServer, type PodResources, type PodResourcesContainerDevices } from './protocol.ts';

export interface PodResourcesSource {
  /** Every active pod with its containers' devices. */
  listPods(): PodResources[];
  /** Healthy devices per resource. */
  allocatable(): PodResourcesContainerDevices[];
}

export interface PodResourcesServer {
  socketPath: string;
  stop(): Promise<void>;
}

export async function startPodResourcesServer(socketPath: string, source: PodResourcesSource, logger: Logger): Promise<PodResourcesServer> {
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o750 });
  await rm(socketPath, { force: true });
  const server = new grpc.Server();
  server.addService(podResourcesServices().PodResourcesLister.service, {
    List: (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
      callback(null, { pod_resources: source.listPods() });
    },
    GetAllocatableResources: (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
      callback(null, { devices: source.allocatable(), cpu_ids: [], memory: [] });
    },
    Get: (call: grpc.ServerUnaryCall<{ pod_name: string; pod_namespace: string }, object>, callback: grpc.sendUnaryData<object>) => {
      const { pod_name, pod_namespace } = call.request;
      const pod = source.listPods().find((p) => p.name === pod_name && p.namespace === pod_namespace);
      if (!pod) {
        callback({ code: grpc.status.NOT_FOUND, details: `pod ${pod_name} in namespace ${pod_namespace} not found` });
        return;
      }
      callback(null, { pod_resources: pod });
    },
  });
  await bindUnix(server, socketPath);
  logger.info({ socket: socketPath }, 'pod resources server listening');
  return {
    socketPath,
    async stop() {
      await shutdownServer(server);
      await rm(socketPath, { force: true });
    },
  };
}
