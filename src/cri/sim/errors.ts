// Errors the simulated runtime answers with: a gRPC status code plus containerd's wording,
// so that callers (and users reading events) see what a real node would show.
import { status } from '@grpc/grpc-js';

export class SimError extends Error {
  constructor(readonly code: status, message: string) {
    super(message);
    this.name = 'SimError';
  }
}

export const notFound = (what: string, id: string) =>
  new SimError(status.NOT_FOUND, `an error occurred when try to find ${what} "${id}": not found`);

export const invalidArgument = (message: string) => new SimError(status.INVALID_ARGUMENT, message);
