// Errors from CRI calls. The gRPC status code stays on the error (err.code) because callers
// branch on it: NOT_FOUND means "already gone", UNAVAILABLE means "runtime down, retry later".
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

export { GrpcStatus };

export class CriError extends Error {
  /** The gRPC status code (GrpcStatus.NOT_FOUND, GrpcStatus.UNAVAILABLE, ...). */
  readonly code: number;
  /** The runtime's own message, without our prefix. */
  readonly details: string;
  /** The RPC that failed, e.g. "RunPodSandbox". */
  readonly method: string;

  constructor(method: string, code: number, details: string, cause?: unknown) {
    super(`CRI ${method} failed: ${GrpcStatus[code] ?? code}: ${details}`, { cause });
    this.name = 'CriError';
    this.method = method;
    this.code = code;
    this.details = details;
  }

  static fromServiceError(method: string, err: ServiceError, endpoint: string): CriError {
    const details = err.code === GrpcStatus.UNAVAILABLE
      ? `runtime at ${endpoint} is unavailable (${err.details})`
      : err.details;
    return new CriError(method, err.code, details, err);
  }
}

export function isCriCode(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

export const isNotFound = (err: unknown): boolean => isCriCode(err, GrpcStatus.NOT_FOUND);
export const isUnavailable = (err: unknown): boolean => isCriCode(err, GrpcStatus.UNAVAILABLE);
