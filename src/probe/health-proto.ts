// Loads grpc.health.v1 (./proto/grpc/health/v1/health.proto) at run time, as the other rooms
// load theirs. In the bundle import.meta.url is dist/mini-kubelet.mjs, and scripts/build.mjs
// puts the file under dist/proto/ with the same path below proto/.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
export interface HealthCheckRequest { service: string }
export interface HealthCheckResponse { status: ServingStatus }

export const HEALTH_PROTO_PATH = fileURLToPath(new URL('./proto/grpc/health/v1/health.proto', import.meta.url));
/** The full service name, as it appears in method paths and errors. */
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

let health: grpc.ServiceClientConstructor | undefined;

/** The Health service constructor: a client class, with `.service` for servers. */
export function healthService(): grpc.ServiceClientConstructor {
  if (!health) {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(HEALTH_PROTO_PATH, LOADER_OPTIONS));
    health = (pkg.grpc as grpc.GrpcObject & { health: { v1: { Health: grpc.ServiceClientConstructor } } }).health.v1.Health;
  }
  return health;
}
