// A minimal OTLP/gRPC trace collector for tests: serves TraceService/Export on 127.0.0.1 and
// keeps every span it is sent, in a plain shape (hex ids, attributes as a record).
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, string | number | boolean>;
  /** 0 unset, 1 ok, 2 error (OTLP's StatusCode). */
  statusCode: number;
  statusMessage: string;
  resource: Record<string, string | number | boolean>;
}

export interface OtlpCollector {
  /** host:port, as --tracing-endpoint takes it. */
  endpoint: string;
  spans: CollectedSpan[];
  stop(): Promise<void>;
}

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number; value?: string };
type KeyValue = { key: string; value?: AnyValue };

function valueOf(v: AnyValue | undefined): string | number | boolean {
  if (!v || !v.value) return '';
  if (v.value === 'intValue') return Number(v.intValue);
  return (v as Record<string, string | number | boolean>)[v.value]!;
}
const record = (kvs: KeyValue[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, valueOf(kv.value)]));
const hex = (b: Buffer | undefined) => (b ? Buffer.from(b).toString('hex') : '');

export async function startOtlpCollector(): Promise<OtlpCollector> {
  const definition = protoLoader.loadSync(fileURLToPath(new URL('./proto/otlp-trace-export.proto', import.meta.url)), {
    keepCase: false, longs: String, defaults: true, oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as any;
  const service = pkg.opentelemetry.proto.collector.trace.v1.TraceService.service;
  const spans: CollectedSpan[] = [];
  const server = new grpc.Server();
  server.addService(service, {
    Export(call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) {
      for (const rs of call.request.resourceSpans ?? []) {
        const resource = record(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId), name: s.name,
              startNs: BigInt(s.startTimeUnixNano), endNs: BigInt(s.endTimeUnixNano), attributes: record(s.attributes),
              statusCode: s.status?.code ?? 0, statusMessage: s.status?.message ?? '', resource,
            });
          }
        }
      }
      callback(null, {});
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    endpoint: `127.0.0.1:${port}`,
    spans,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
