// CRI endpoints as the kubelet's --container-runtime-endpoint accepts them: "unix:///path" or a
// bare absolute path. grpc-js wants "unix:///abs/path", so both forms normalise to that.

export interface CriEndpoint {
  /** The grpc-js target, always "unix:///abs/path". */
  target: string;
  /** The socket file on disk. */
  socketPath: string;
}

export function parseCriEndpoint(endpoint: string): CriEndpoint {
  const raw = endpoint.trim();
  let socketPath: string;
  if (raw.startsWith('unix://')) socketPath = raw.slice('unix://'.length);
  else if (raw.startsWith('unix:')) socketPath = raw.slice('unix:'.length);
  else if (raw.includes('://')) throw new Error(`unsupported CRI endpoint "${endpoint}": only unix sockets are supported`);
  else socketPath = raw;
  if (!socketPath.startsWith('/')) throw new Error(`CRI endpoint "${endpoint}" must name an absolute socket path`);
  return { target: `unix://${socketPath}`, socketPath };
}
