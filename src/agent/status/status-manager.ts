// The status manager: the one writer of pods/status. It keeps the newest status per pod,
// patches only when it differs from what was last written, coalesces updates that arrive
// while a patch waits (batching per pod). Its patches wait for the API client's rate limit
// (--kube-api-qps), as the kubelet's do; a bound of its own is only for tests.
// Static pods' statuses go to their mirror pods (same namespace and name).
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { statusOf, type KubeApi } from '../api/kube-api.ts';
import { TokenBucket } from '../util/token-bucket.ts';
import { statusEqual, statusMergePatch } from './status-patch.ts';
import { noTracing, type AgentTracing } from '../../trace/tracing.ts';
import { outsidePodLogScope } from '../../pod/pod-log-scope.ts';

interface Entry {
  namespace: string;
  name: string;
  /** Newest status the agent computed. */
  wanted: V1PodStatus;
  /** Status last accepted by the API server. */
  written?: V1PodStatus;
}

export interface StatusManagerOptions {
  /** A limit of its own on top of the API client's (default none). */
  qps?: number;
  burst?: number;
  /** Delay before retrying a failed patch (e.g. a mirror pod not created yet). */
  retryMs?: number;
  /** Each patch is a root span of its pod's timeline (status.patch, with the phase). */
  tracing?: AgentTracing;
}

export class StatusManager {
  private readonly entries = new Map<string, Entry>();
  private readonly dirty = new Set<string>();
  private readonly bucket: TokenBucket | undefined;
  private readonly retryMs: number;
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly tracing: AgentTracing;

  constructor(private readonly api: KubeApi | undefined, private readonly logger: Logger, opts: StatusManagerOptions = {}) {
    this.bucket = opts.qps !== undefined ? new TokenBucket(opts.qps, opts.burst ?? opts.qps) : undefined;
    this.retryMs = opts.retryMs ?? 1000;
    this.tracing = opts.tracing ?? noTracing;
  }

  /** The newest status computed for the pod (what the next sync should build on). */
  latest(uid: string): V1PodStatus | undefined {
    return this.entries.get(uid)?.wanted;
  }

  set(pod: V1Pod, status: V1PodStatus): void {
    const uid = pod.metadata!.uid!;
    const entry = this.entries.get(uid);
    if (entry) entry.wanted = status;
    else this.entries.set(uid, { namespace: pod.metadata!.namespace ?? 'default', name: pod.metadata!.name!, wanted: status, written: pod.status });
    if (!this.api) return;
    this.dirty.add(uid);
    this.kick();
  }

  forget(uid: string): void {
    this.entries.delete(uid);
    this.dirty.delete(uid);
  }

  /** Resolves once every pending status was written (or gave up on). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  private kick(): void {
    if (this.draining || this.stopped) return;
    // drain() handles each patch's failure; anything else it throws is logged, never left unhandled.
    // Outside the pod scope of whichever pod's set() started it: the drain writes every pod's status.
    this.draining = outsidePodLogScope(() => this.drain()).catch((err) => {
      this.logger.error({ err }, 'pod status writing failed');
    }).finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    const failed: string[] = [];
    while (this.dirty.size && !this.stopped) {
      const uid = this.dirty.values().next().value as string;
      this.dirty.delete(uid);
      const entry = this.entries.get(uid);
      if (!entry || statusEqual(entry.written, entry.wanted)) continue;
      const wanted = entry.wanted;
      await this.bucket?.take();
      try {
        await this.tracing.podRoot('status.patch', { uid, name: entry.name, namespace: entry.namespace }, { 'k8s.pod.phase': wanted.phase ?? '' },
          () => this.api!.patchPodStatus(entry.namespace, entry.name, statusMergePatch(entry.written, wanted)));
        entry.written = wanted;
        this.logger.debug({ pod: `${entry.namespace}/${entry.name}`, uid, phase: wanted.phase }, 'pod status written');
      } catch (err) {
        if (statusOf(err) === 404 && !this.entries.has(uid)) continue;
        this.logger.debug({ pod: `${entry.namespace}/${entry.name}`, uid, err: String(err) }, 'pod status patch failed; will retry');
        failed.push(uid);
      }
    }
    if (failed.length && !this.stopped) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        for (const uid of failed) if (this.entries.has(uid)) this.dirty.add(uid);
        this.kick();
      }, this.retryMs);
    }
  }
}
