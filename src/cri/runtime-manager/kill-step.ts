// Stop containers and pods, as the kubelet's killContainer/killPodWithSyncResult. A container's
// grace period is the pod's (deletionGracePeriodSeconds, else terminationGracePeriodSeconds, else
// 30), or a failed probe's own, or an explicit override (a delete's grace period, a forced removal).
// Its preStop hook (exec, httpGet or sleep) runs first, within that period, and what it took comes
// off the period the stop gets: at least 2 s, except under an override, which is kept exactly.
// App containers stop together; then sidecars one at a time, in reverse order.
// Then every sandbox is stopped and its network released; with `remove`, everything is removed.
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../errors.ts';
import type { ObservedContainer, RuntimePodStatus } from './pod-runtime.ts';
import { errorMessage, type SyncResultBuilder } from './sync-result.ts';
import { etcHostsPath } from './etc-hosts.ts';
import { step, type ExecutorDeps } from './executor-deps.ts';
import { runLifecycleHook } from './lifecycle-hooks.ts';
import { podGracePeriodSeconds } from '../../pod/grace-period.ts';
import { isActiveContainer } from '../../pod/active-container.ts';
import { sidecarsOf } from '../../pod/sidecar.ts';
import type { PodRef } from '../../pod/pod-ref.ts';
import { exposeSpanFor, inSpan } from '../../trace/in-span.ts';
import { CONTAINER_ID, CONTAINER_NAME, SANDBOX_ID } from '../../trace/span-attributes.ts';

const MIN_GRACE_SECONDS = 2;
// Margin on top of the grace period for the StopContainer call's deadline.
const STOP_CALL_MARGIN_MS = 2 * 60 * 1000;

export interface KillOptions {
  pod?: V1Pod;
  /** Seconds, used exactly (no minimum): a delete's grace period, or a forced removal (0). */
  gracePeriodOverride?: number;
  /** A failed probe's terminationGracePeriodSeconds: replaces the pod's. */
  gracePeriodSeconds?: number;
  /** Event message; default "Stopping container <name>". */
  message?: string;
  /** The pod's IPs, for an httpGet preStop hook. */
  podIPs?: string[];
}

export async function killContainer(deps: ExecutorDeps, ref: PodRef, c: Pick<ObservedContainer, 'id' | 'name' | 'state'>, opts: KillOptions, result: SyncResultBuilder): Promise<boolean> {
  let grace = opts.gracePeriodOverride ?? opts.gracePeriodSeconds ?? podGracePeriodSeconds(opts.pod);
  const spec = [...(opts.pod?.spec?.containers ?? []), ...(opts.pod?.spec?.initContainers ?? [])].find(x => x.name === c.name);
  const preStop = spec?.lifecycle?.preStop;
  result.event('Normal', 'Killing', opts.message ?? `Stopping container ${c.name}`, c.name);
  if (spec && preStop && c.state === 'running' && grace > 0) {
    const started = deps.clock();
    const hook = await runLifecycleHook(deps, ref, 'preStop', preStop, { container: spec, containerId: c.id, podIPs: opts.podIPs ?? [], timeoutSeconds: grace });
    if (!hook.ok) result.event('Warning', 'FailedPreStopHook', hook.message, c.name);
    grace -= Math.floor((deps.clock() - started) / 1000);
  }
  grace = opts.gracePeriodOverride !== undefined ? Math.max(grace, 0) : Math.max(grace, MIN_GRACE_SECONDS);
  try {
    await inSpan('StopContainer', { [CONTAINER_NAME]: c.name, [CONTAINER_ID]: c.id, 'grace.seconds': grace }, () => step(deps, ref, 'kill', c.name, () => deps.runtime.stopContainer({ containerId: c.id, timeout: grace }, { timeoutMs: grace * 1000 + STOP_CALL_MARGIN_MS })));
    return true;
  } catch (err) {
    if (isNotFound(err)) return true;
    result.fail({ step: 'kill', reason: 'KillContainerError', message: errorMessage(err), container: c.name });
    return false;
  }
}

export async function killPodWithResult(deps: ExecutorDeps, ref: PodRef, observed: RuntimePodStatus, opts: KillOptions & { remove: boolean }, result: SyncResultBuilder): Promise<void> {
  const active = observed.containers.filter(isActiveContainer);
  const withIPs = { ...opts, podIPs: opts.podIPs ?? observed.sandboxes[0]?.ips ?? [] };
  const sidecarOrder = sidecarsOf(opts.pod ?? {}).map(c => c.name);
  // App containers stop in parallel, as the kubelet does; the grace period runs for all at once.
  await Promise.all(active.filter(c => !sidecarOrder.includes(c.name)).map(c => killContainer(deps, ref, c, withIPs, result)));
  // Sidecars serve the app until it is gone, then stop last-started first.
  for (const name of [...sidecarOrder].reverse()) {
    for (const c of active.filter(x => x.name === name)) await killContainer(deps, ref, c, withIPs, result);
  }
  if (result.failed) return; // a sandbox is only stopped once its containers are

  // A sandbox whose stop failed (its network teardown, CNI DEL, failed: the runtime keeps its
  // netns and IP) is kept, never removed; the failure is an event on the pod and the sandbox is
  // handed to the teardown retries, so it is retried with backoff until it succeeds.
  await stopSandboxes(deps, ref, observed.sandboxes.map((s) => s.id), result);
  if (!opts.remove || result.failed) return;

  for (const c of observed.containers) {
    await inSpan('RemoveContainer', { [CONTAINER_NAME]: c.name, [CONTAINER_ID]: c.id }, () => removeIgnoringNotFound(() => deps.runtime.removeContainer({ containerId: c.id }), 'RemoveContainerError', result, c.name));
  }
  for (const s of observed.sandboxes) {
    await inSpan('RemovePodSandbox', { [SANDBOX_ID]: s.id }, () => removeIgnoringNotFound(() => deps.runtime.removePodSandbox({ podSandboxId: s.id }), 'RemovePodSandboxError', result));
  }
  // The termination-message files and the hosts file this manager made for the pod's containers.
  await rm(join(deps.rootDir, 'pods', ref.uid, 'containers'), { recursive: true, force: true });
  await rm(etcHostsPath(deps.rootDir, ref.uid), { force: true });
  // The pod's directory too once nothing else is in it: the volume manager removes it when it
  // tears the volumes down last, but a removal that had to wait (a failed network teardown,
  // retried) comes after the volumes went, and would leave pods/<uid> behind.
  await rmdir(join(deps.rootDir, 'pods', ref.uid)).catch(() => undefined);
}

/** Stops each sandbox and releases what the network manager holds for it (agent mode). */
export async function stopSandboxes(deps: ExecutorDeps, ref: PodRef, sandboxIds: string[], result: SyncResultBuilder): Promise<void> {
  for (const id of sandboxIds) {
    try {
      // The stop and the network's release in one span; the CNI DEL the runtime runs nests under it.
      await inSpan('StopPodSandbox', { [SANDBOX_ID]: id }, () => exposeSpanFor(ref.uid, async () => {
        try {
          await step(deps, ref, 'stopSandbox', undefined, () => deps.runtime.stopPodSandbox({ podSandboxId: id }));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        await deps.network.release({ podUid: ref.uid, podName: ref.name, podNamespace: ref.namespace, sandboxId: id });
      }));
    } catch (err) {
      const message = errorMessage(err);
      result.fail({ step: 'stopSandbox', reason: 'KillPodSandboxError', message });
      // The kubelet's event for it: FailedKillPod, naming the step, the pod and the runtime's error.
      result.event('Warning', 'FailedKillPod', `error killing pod: failed to "KillPodSandbox" for "${ref.uid}" with KillPodSandboxError: "${message}"`);
      deps.teardowns?.failed(ref, id, message);
    }
  }
}

async function removeIgnoringNotFound(call: () => Promise<unknown>, reason: string, result: SyncResultBuilder, container?: string): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!isNotFound(err)) result.fail({ step: 'remove', reason, message: errorMessage(err), ...(container !== undefined ? { container } : {}) });
  }
}
