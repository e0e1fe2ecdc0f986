// Loads src/cri/proto/runtime.proto at run time (no protoc step). The generated types in
// ./generated describe exactly what this loader produces with these options, so keep the two
// in step: after editing the .proto, regenerate with
//   node_modules/.bin/proto-loader-gen-types --keepCase=false --longs=Number --enums=String \
//     --defaults --oneofs --grpcLib=@grpc/grpc-js --importFileExtension=.ts --includeComments \
//     -O src/cri/generated src/cri/proto/runtime.proto
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/runtime.ts';

/** camelCase fields, enums as names, int64 as JS numbers: a nanosecond timestamp then keeps
 * ~0.25 us precision (a double's 53 bits), far finer than anything a kubelet compares. */
export const CRI_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const CRI_PROTO_PATH = fileURLToPath(new URL('./proto/runtime.proto', import.meta.url));

let cached: ProtoGrpcType['runtime']['v1'] | undefined;

/** The runtime.v1 package: service constructors (RuntimeService, ImageService) and message types. */
export function loadCriPackage(): ProtoGrpcType['runtime']['v1'] {
  if (!cached) {
    const definition = protoLoader.loadSync(CRI_PROTO_PATH, CRI_LOADER_OPTIONS);
    cached = (grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType).runtime.v1;
  }
  return cached;
}
