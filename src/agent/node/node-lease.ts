// The node heartbeat: a Lease in kube-node-lease named after the node, renewed every
// leaseDuration/4 (10 s of 40 s), owned by the Node so it goes away with it.
import type { V1Lease, V1Node } from '@kubernetes/client-node';
import type { KubeApi } from '../api/kube-api.ts';
import { statusOf } from '../api/kube-api.ts';
import { microTime } from '../api/micro-time.ts';
import { withApiTimes } from '../api/api-time.ts';

export const leaseNamespace = 'kube-node-lease';

export function buildLease(node: V1Node, durationSeconds: number, now: Date): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node.metadata!.name!,
      namespace: leaseNamespace,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.metadata!.name!, uid: node.metadata!.uid! }],
    },
    spec: { holderIdentity: node.metadata!.name!, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) },
  };
}

/** Create the lease if missing, else move its renewTime forward. Retries once on a conflict. */
export async function renewLease(api: KubeApi, node: V1Node, durationSeconds: number, now: () => Date): Promise<V1Lease> {
  for (let attempt = 0; ; attempt++) {
    const current = await api.getLease(leaseNamespace, node.metadata!.name!);
    try {
      if (!current) return await api.createLease(buildLease(node, durationSeconds, now()));
      return await api.replaceLease(withApiTimes({
        ...current,
        spec: { ...current.spec, holderIdentity: node.metadata!.name!, leaseDurationSeconds: durationSeconds, renewTime: microTime(now()) },
      }));
    } catch (err) {
      if ((statusOf(err) === 409) && attempt < 1) continue;
      throw err;
    }
  }
}

export interface LeaseLoopOptions {
  /** How often a renewal succeeds in the steady state (leaseDuration/4). */
  intervalMs: number;
  /** An attempt that has not finished by then counts as failed (kubelet: the renew interval), so a
   * request stuck on a dead connection or a hung server never holds the heartbeat back. */
  attemptTimeoutMs?: number;
  /** After a failure the next attempt comes sooner than the interval: 200 ms doubling up to 7 s,
   * as the kubelet's lease controller retries (backoffEnsureLease). */
  initialRetryMs?: number;
  maxRetryMs?: number;
}

/** Renews the lease every interval, and after a failure again with backoff; returns the stopper. */
export function keepLeaseRenewed(renew: () => Promise<unknown>, opts: LeaseLoopOptions, log: { warn(obj: object, msg: string): void }): () => Promise<void> {
  const attemptTimeoutMs = opts.attemptTimeoutMs ?? opts.intervalMs;
  const initialRetryMs = opts.initialRetryMs ?? 200;
  const maxRetryMs = opts.maxRetryMs ?? 7000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let retryMs = 0;
  const attempt = async () => {
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        renew(),
        new Promise((_, reject) => { timeout = setTimeout(() => reject(new Error(`lease renewal took longer than ${attemptTimeoutMs} ms`)), attemptTimeoutMs); }),
      ]);
      retryMs = 0;
      return opts.intervalMs;
    } catch (err) {
      retryMs = retryMs === 0 ? initialRetryMs : Math.min(retryMs * 2, maxRetryMs);
      log.warn({ err: err instanceof Error ? err.message : String(err), retryMs }, 'node lease renewal failed; retrying');
      return retryMs;
    } finally {
      clearTimeout(timeout);
    }
  };
  const tick = () => {
    running = attempt().then((nextMs) => {
      if (!stopped) timer = setTimeout(tick, nextMs);
    });
  };
  tick();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
