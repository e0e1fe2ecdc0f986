// A typed CRI client: one async method per RPC the kubelet uses, on RuntimeService and
// ImageService over unix sockets.
//
// Convention: every method takes the RPC's request message and resolves to its response
// message (output form: all fields present, int64 as number, enums as names), e.g.
//   const { podSandboxId } = await cri.runPodSandbox({ config, runtimeHandler: 'runc' });
// Failures reject with CriError, whose `code` is the gRPC status.
//
// Each call has a deadline, as the kubelet's remote runtime sets them: the client's timeout
// (default 2 min, runtimeRequestTimeout); StopContainer and ExecSync get their own timeout on
// top of it (ExecSync with timeout 0 has none); PullImage has none (pulls take what they
// take; the caller cancels). CallOptions.timeoutMs overrides all of these. While the
// runtime is down a call fails fast with UNAVAILABLE (no waitForReady), and the channel is
// rebuilt so the first call after the runtime returns connects afresh instead of waiting out
// grpc's reconnect backoff.
//
// containerEvents() is the one stream (GetContainerEvents, evented PLEG): an Observable that
// lives until the runtime ends it or the subscriber leaves, with no deadline and outside the
// call metrics (a stream's duration is its life, not an operation's latency).
//
// With `metrics`, every call is counted and timed under the kubelet's operation name
// (operation-names.ts): one recorder per RPC, made on its first call, then a Map lookup and
// the recorder's observation per call.
import { AsyncResource } from 'node:async_hooks';
import * as grpc from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';
import { Observable } from 'rxjs';
import { parseCriEndpoint } from './endpoint.ts';
import { CriError } from './errors.ts';
import { criOperationName } from './operation-names.ts';
import { loadCriPackage } from './proto-loader.ts';
import type { RuntimeServiceClient } from './generated/runtime/v1/RuntimeService.ts';
import type { ImageServiceClient } from './generated/runtime/v1/ImageService.ts';
import type * as T from './types.ts';
import { traceHeaders } from '../trace/propagation.ts';

/** The step's W3C trace context (traceparent) for the runtime; empty while no span is active. */
function traceMetadata(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(traceHeaders() ?? {})) metadata.set(k, v);
  return metadata;
}

export interface CriClientOptions {
  /** Separate image service endpoint (--image-service-endpoint); defaults to the runtime's. */
  imageEndpoint?: string;
  /** Deadline per call in ms; default 120000. */
  timeoutMs?: number;
  logger?: Logger;
  /** Counts and times every call (kubelet_runtime_operations_*). */
  metrics?: CriCallMetrics;
}

/** Where each call's duration and outcome go. `operation` is asked once per RPC, with the kubelet's
 * name for it (run_podsandbox, exec_sync, ...); the recorder it returns is called once per call. */
export interface CriCallMetrics {
  operation(name: string): CriCallRecorder;
}
export type CriCallRecorder = (seconds: number, failed: boolean) => void;

export interface CallOptions {
  /** Deadline for this call in ms, replacing the default (Infinity: none). */
  timeoutMs?: number;
  /** Log a success at trace instead of debug: the relist every second (a failure stays at debug). */
  quiet?: boolean;
}

export interface ContainerEventsOptions {
  /** The runtime answered the call with headers: it serves the stream (containerd sends none
   * before the first event, so an event counts as well). */
  onOpen?: () => void;
}

export const DEFAULT_CRI_TIMEOUT_MS = 2 * 60 * 1000;

type AnyClient = grpc.Client & Record<string, Function>;

/** One endpoint's grpc client, recreated after UNAVAILABLE. */
class Channel<C extends grpc.Client> {
  private client: C | undefined;
  constructor(readonly endpoint: string, private readonly make: (target: string) => C) {}
  get(): C {
    this.client ??= this.make(parseCriEndpoint(this.endpoint).target);
    return this.client;
  }
  reset(): void {
    this.client?.close();
    this.client = undefined;
  }
}

// Reconnect quickly: a runtime restart takes seconds, and the kubelet polls every second.
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1000,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
};

export class CriClient {
  private readonly runtime: Channel<RuntimeServiceClient>;
  private readonly image: Channel<ImageServiceClient>;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private readonly metrics: CriCallMetrics | undefined;
  /** One recorder per RPC name, made on first use. */
  private readonly recorders = new Map<string, CriCallRecorder>();

  private constructor(endpoint: string, opts: CriClientOptions) {
    parseCriEndpoint(endpoint); // fail early on a malformed endpoint
    if (opts.imageEndpoint) parseCriEndpoint(opts.imageEndpoint);
    const pkg = loadCriPackage();
    const credentials = grpc.credentials.createInsecure();
    this.runtime = new Channel(endpoint, (t) => new pkg.RuntimeService(t, credentials, CHANNEL_OPTIONS));
    this.image = new Channel(opts.imageEndpoint ?? endpoint, (t) => new pkg.ImageService(t, credentials, CHANNEL_OPTIONS));
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_CRI_TIMEOUT_MS;
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'cri-client' });
    this.metrics = opts.metrics;
  }

  private recorderFor(method: string): CriCallRecorder | undefined {
    if (!this.metrics) return undefined;
    let recorder = this.recorders.get(method);
    if (!recorder) {
      recorder = this.metrics.operation(criOperationName(method));
      this.recorders.set(method, recorder);
    }
    return recorder;
  }

  /** Connects lazily: the first call opens the socket. endpoint: "unix:///path" or "/path". */
  static connect(endpoint: string, opts: CriClientOptions = {}): CriClient {
    return new CriClient(endpoint, opts);
  }

  close(): void {
    this.runtime.reset();
    this.image.reset();
  }

  private call<Res>(channel: Channel<grpc.Client>, method: string, request: object, opts?: CallOptions, defaultTimeoutMs = this.timeoutMs): Promise<Res> {
    const started = performance.now();
    const timeoutMs = opts?.timeoutMs ?? defaultTimeoutMs;
    const deadline = Number.isFinite(timeoutMs) ? new Date(Date.now() + timeoutMs) : Infinity;
    const client = channel.get() as AnyClient;
    const record = this.recorderFor(method);
    return new Promise<Res>((resolve, reject) => {
      // Bound to the caller's async context, so the line below logs in its pod's scope (src/pod/pod-log-scope.ts).
      client[method]!.call(client, request, traceMetadata(), { deadline }, AsyncResource.bind((err: grpc.ServiceError | null, res: Res) => {
        const elapsed = performance.now() - started;
        record?.(elapsed / 1000, err !== null);
        const ms = Math.round(elapsed);
        if (!err) {
          if (opts?.quiet) this.log.trace({ method, ms }, 'CRI call');
          else this.log.debug({ method, ms }, 'CRI call');
          resolve(res);
          return;
        }
        this.log.debug({ method, ms, code: grpc.status[err.code], err: err.details }, 'CRI call failed');
        if (err.code === grpc.status.UNAVAILABLE) channel.reset();
        reject(CriError.fromServiceError(method, err, channel.endpoint));
      }));
    });
  }

  private rt<Res>(method: string, request: object, opts?: CallOptions, defaultTimeoutMs?: number): Promise<Res> {
    return this.call<Res>(this.runtime, method, request, opts, defaultTimeoutMs);
  }

  private img<Res>(method: string, request: object, opts?: CallOptions, defaultTimeoutMs?: number): Promise<Res> {
    return this.call<Res>(this.image, method, request, opts, defaultTimeoutMs);
  }

  /** The client's timeout plus an RPC's own timeout in seconds; no deadline when that is 0. */
  private plusRequestTimeout(seconds: number | undefined, zeroMeansNone: boolean): number {
    const s = Number(seconds ?? 0);
    if (s <= 0) return zeroMeansNone ? Infinity : this.timeoutMs;
    return this.timeoutMs + s * 1000;
  }

  // --- RuntimeService --------------------------------------------------------------------

  version(req: T.VersionRequest = { version: 'v1' }, o?: CallOptions) { return this.rt<T.VersionResponse>('Version', req, o); }
  status(req: T.StatusRequest = {}, o?: CallOptions) { return this.rt<T.StatusResponse>('Status', req, o); }

  runPodSandbox(req: T.RunPodSandboxRequest, o?: CallOptions) { return this.rt<T.RunPodSandboxResponse>('RunPodSandbox', req, o); }
  stopPodSandbox(req: T.StopPodSandboxRequest, o?: CallOptions) { return this.rt<T.StopPodSandboxResponse>('StopPodSandbox', req, o); }
  removePodSandbox(req: T.RemovePodSandboxRequest, o?: CallOptions) { return this.rt<T.RemovePodSandboxResponse>('RemovePodSandbox', req, o); }
  podSandboxStatus(req: T.PodSandboxStatusRequest, o?: CallOptions) { return this.rt<T.PodSandboxStatusResponse>('PodSandboxStatus', req, o); }
  listPodSandbox(req: T.ListPodSandboxRequest = {}, o?: CallOptions) { return this.rt<T.ListPodSandboxResponse>('ListPodSandbox', req, o); }

  createContainer(req: T.CreateContainerRequest, o?: CallOptions) { return this.rt<T.CreateContainerResponse>('CreateContainer', req, o); }
  startContainer(req: T.StartContainerRequest, o?: CallOptions) { return this.rt<T.StartContainerResponse>('StartContainer', req, o); }
  stopContainer(req: T.StopContainerRequest, o?: CallOptions) { return this.rt<T.StopContainerResponse>('StopContainer', req, o, this.plusRequestTimeout(req.timeout as number | undefined, false)); }
  removeContainer(req: T.RemoveContainerRequest, o?: CallOptions) { return this.rt<T.RemoveContainerResponse>('RemoveContainer', req, o); }
  listContainers(req: T.ListContainersRequest = {}, o?: CallOptions) { return this.rt<T.ListContainersResponse>('ListContainers', req, o); }
  containerStatus(req: T.ContainerStatusRequest, o?: CallOptions) { return this.rt<T.ContainerStatusResponse>('ContainerStatus', req, o); }
  updateContainerResources(req: T.UpdateContainerResourcesRequest, o?: CallOptions) { return this.rt<T.UpdateContainerResourcesResponse>('UpdateContainerResources', req, o); }
  listContainerStats(req: T.ListContainerStatsRequest = {}, o?: CallOptions) { return this.rt<T.ListContainerStatsResponse>('ListContainerStats', req, o); }
  exec(req: T.ExecRequest, o?: CallOptions) { return this.rt<T.ExecResponse>('Exec', req, o); }
  attach(req: T.AttachRequest, o?: CallOptions) { return this.rt<T.AttachResponse>('Attach', req, o); }
  portForward(req: T.PortForwardRequest, o?: CallOptions) { return this.rt<T.PortForwardResponse>('PortForward', req, o); }
  execSync(req: T.ExecSyncRequest, o?: CallOptions) { return this.rt<T.ExecSyncResponse>('ExecSync', req, o, this.plusRequestTimeout(req.timeout as number | undefined, true)); }

  /** GetContainerEvents: each lifecycle event as the runtime sends it. Errors with a CriError
   * (UNIMPLEMENTED: the runtime has no stream, as containerd 1.6), completes when the runtime
   * ends the stream; unsubscribing cancels the call. */
  containerEvents(opts: ContainerEventsOptions = {}): Observable<T.ContainerEventResponse> {
    const method = 'GetContainerEvents';
    return new Observable<T.ContainerEventResponse>((subscriber) => {
      const call = this.runtime.get().GetContainerEvents({});
      let left = false;
      let opened = false;
      const open = () => {
        if (opened) return;
        opened = true;
        this.log.debug({ method }, 'CRI event stream open');
        opts.onOpen?.();
      };
      call.on('metadata', open);
      call.on('data', (event: T.ContainerEventResponse) => {
        open();
        subscriber.next(event);
      });
      call.on('error', (err: grpc.ServiceError) => {
        if (left) return; // our own cancel
        this.log.debug({ method, code: grpc.status[err.code], err: err.details }, 'CRI event stream failed');
        if (err.code === grpc.status.UNAVAILABLE) this.runtime.reset();
        subscriber.error(CriError.fromServiceError(method, err, this.runtime.endpoint));
      });
      call.on('end', () => {
        if (!left) subscriber.complete();
      });
      return () => {
        left = true;
        call.cancel();
      };
    });
  }

  // --- ImageService ----------------------------------------------------------------------

  listImages(req: T.ListImagesRequest = {}, o?: CallOptions) { return this.img<T.ListImagesResponse>('ListImages', req, o); }
  imageStatus(req: T.ImageStatusRequest, o?: CallOptions) { return this.img<T.ImageStatusResponse>('ImageStatus', req, o); }
  pullImage(req: T.PullImageRequest, o?: CallOptions) { return this.img<T.PullImageResponse>('PullImage', req, o, Infinity); }
  removeImage(req: T.RemoveImageRequest, o?: CallOptions) { return this.img<T.RemoveImageResponse>('RemoveImage', req, o); }
  imageFsInfo(req: T.ImageFsInfoRequest = {}, o?: CallOptions) { return this.img<T.ImageFsInfoResponse>('ImageFsInfo', req, o); }
}
