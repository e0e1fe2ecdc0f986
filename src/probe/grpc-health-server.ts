// An in-process grpc.health.v1 server for tests and the dev demo. It knows one service, the
// empty name (the server as a whole), and answers other names as grpc-go's health server does:
// Check with NOT_FOUND "unknown service", Watch with SERVICE_UNKNOWN.
import * as grpc from '@grpc/grpc-js';
import { healthService, type HealthCheckRequest, type HealthCheckResponse, type ServingStatus } from './health-proto.ts';
import { joinHostPort } from './go-text.ts';

export interface RunningGrpcHealthServer {
  port: number;
  /** What Check answers from now on; Watch callers hear of the change. */
  setStatus(s: 'SERVING' | 'NOT_SERVING'): void;
  stop(): Promise<void>;
}

/** An in-process grpc.health.v1 server for tests and the dev demo: set(status) changes what Check answers. */
export async function startGrpcHealthServer(opts: { host?: string; port?: number } = {}): Promise<RunningGrpcHealthServer> {
  let status: ServingStatus = 'SERVING';
  const statusOf = (service: string): ServingStatus | undefined => (service === '' ? status : undefined);
  const watchers = new Map<grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>, ServingStatus>();
  const tell = (call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
    const now = statusOf(call.request.service) ?? 'SERVICE_UNKNOWN';
    // Watch sends changes only, not every set.
    if (watchers.get(call) === now) return;
    watchers.set(call, now);
    call.write({ status: now });
  };

  const server = new grpc.Server();
  server.addService(healthService().service, {
    Check(call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: grpc.sendUnaryData<HealthCheckResponse>) {
      const now = statusOf(call.request.service);
      if (now === undefined) callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else callback(null, { status: now });
    },
    Watch(call: grpc.ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) {
      call.on('cancelled', () => watchers.delete(call));
      tell(call);
    },
  });
  const address = joinHostPort(opts.host ?? '127.0.0.1', opts.port ?? 0);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return {
    port,
    setStatus(next) {
      status = next;
      for (const call of watchers.keys()) tell(call);
    },
    async stop() {
      for (const call of watchers.keys()) call.end();
      watchers.clear();
      server.forceShutdown();
    },
  };
}
