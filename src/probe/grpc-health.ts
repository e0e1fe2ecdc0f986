// grpc probes: grpc.health.v1 Check over an insecure connection to the pod IP, as the kubelet
// does (it supports no credentials). Every outcome is a pass or a failure; the texts are the
// kubelet's. One fresh connection per probe, closed afterwards.
import * as grpc from '@grpc/grpc-js';
import type { V1GRPCAction } from '@kubernetes/client-node';
import type { ProbeOutcome } from './probe-outcome.ts';
import { goDuration, goQuote, joinHostPort } from './go-text.ts';
import { healthService, HEALTH_SERVICE_NAME, type HealthCheckRequest, type HealthCheckResponse } from './health-proto.ts';
import { kubeUserAgent } from './user-agent.ts';

export { startGrpcHealthServer } from './grpc-health-server.ts';

export interface GrpcHealthTarget { host: string; port: number; service?: string }

/** A grpc action always targets the pod IP; no service means the server as a whole. */
export function grpcTargetOf(action: V1GRPCAction, podIP: string): GrpcHealthTarget {
  return { host: podIP, port: action.port, ...(action.service !== undefined ? { service: action.service } : {}) };
}

export async function runGrpcHealth(target: GrpcHealthTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const address = joinHostPort(target.host, target.port);
  const deadline = Date.now() + timeoutMs;
  const Health = healthService();
  // A pool of its own, so the probe opens (and closes) its own connection, as the kubelet's does.
  const client = new Health(address, grpc.credentials.createInsecure(), {
    'grpc.primary_user_agent': kubeUserAgent('probe'),
    'grpc.use_local_subchannel_pool': 1,
  });
  try {
    const connected = await new Promise<boolean>((resolve) => client.waitForReady(deadline, (err) => resolve(!err)));
    if (!connected) return { result: 'failure', output: `timeout: failed to connect service ${goQuote(address)} within ${goDuration(timeoutMs)}: context deadline exceeded` };
    const request: HealthCheckRequest = { service: target.service ?? '' };
    const answer = await new Promise<{ err: grpc.ServiceError | null; res?: HealthCheckResponse }>((resolve) => {
      (client as unknown as Record<string, Function>).Check(request, { deadline }, (err: grpc.ServiceError | null, res?: HealthCheckResponse) => resolve({ err, res }));
    });
    if (answer.err) return { result: 'failure', output: rpcErrorText(answer.err, timeoutMs) };
    const status = answer.res?.status ?? 'UNKNOWN';
    if (status !== 'SERVING') return { result: 'failure', output: `service unhealthy (responded with ${goQuote(status)})` };
    return { result: 'success', output: 'service healthy' };
  } finally {
    client.close();
  }
}

/** grpc-go's code names, by number, for status texts as Go prints them. */
const GO_CODE_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];

function rpcErrorText(err: grpc.ServiceError, timeoutMs: number): string {
  if (err.code === grpc.status.UNIMPLEMENTED) return `error: this server does not implement the grpc health protocol (${HEALTH_SERVICE_NAME}): ${err.details}`;
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return `timeout: health rpc did not complete within ${goDuration(timeoutMs)}`;
  return `error: health rpc probe failed: rpc error: code = ${GO_CODE_NAMES[err.code] ?? `Code(${err.code})`} desc = ${err.details}`;
}
