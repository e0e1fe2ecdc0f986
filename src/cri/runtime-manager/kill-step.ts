// Stop containers and pods, as the kubelet's killContainer/killPodWithSyncResult: the grace
// period is deletionGracePeriodSeconds, else terminationGracePeriodSeconds (default 30), minus
// the time a preStop exec hook took, at least 2 s; an explicit override (a forced delete) wins.
// Then every sandbox is stopped and its network released; with `remove`, everything is removed.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../errors.ts';
import type { ObservedContainer, RuntimePodStatus } from './pod-runtime.ts';
import { errorMessage, type SyncResultBuilder } from './sync-result.ts';
import { etcHostsPath } from './etc-hosts.ts';
import { step, type ExecutorDeps } from './executor-deps.ts';
import { podGracePeriodSeconds } from '../../pod/grace-period.ts';
import { isActiveContainer } from '../../pod/active-container.ts';
import type { PodRef } from '../../pod/pod-ref.ts';

const MIN_GRACE_SECONDS = 2;
// Margin on top of the grace period for the StopContainer call's deadline.
const STOP_CALL_MARGIN_MS = 2 * 60 * 1000;

export interface KillOptions {
  pod?: V1Pod;
  /** Seconds, used exactly (no minimum): a forced or explicit grace period. */
  gracePeriodOverride?: number;
  /** Event message; default "Stopping container <name>". */
  message?: string;
}

export async function killContainer(deps: ExecutorDeps, ref: PodRef, c: Pick<ObservedContainer, 'id' | 'name' | 'state'>, opts: KillOptions, result: SyncResultBuilder): Promise<boolean> {
  let grace = podGracePeriodSeconds(opts.pod);
  const spec = [...(opts.pod?.spec?.containers ?? []), ...(opts.pod?.spec?.initContainers ?? [])].find(x => x.name === c.name);
  const preStop = spec?.lifecycle?.preStop?.exec?.command;
  result.event('Normal', 'Killing', opts.message ?? `Stopping container ${c.name}`, c.name);
  if (preStop?.length && c.state === 'running' && opts.gracePeriodOverride === undefined) {
    const started = deps.clock();
    try {
      await step(deps, ref, 'preStop', c.name, () => deps.runtime.execSync({ containerId: c.id, cmd: preStop, timeout: grace }, { timeoutMs: grace * 1000 + STOP_CALL_MARGIN_MS }));
    } catch (err) {
      result.event('Warning', 'FailedPreStopHook', `PreStopHook failed: ${errorMessage(err)}`, c.name);
    }
    grace -= Math.floor((deps.clock() - started) / 1000);
  }
  grace = opts.gracePeriodOverride ?? Math.max(grace, MIN_GRACE_SECONDS);
  try {
    await step(deps, ref, 'kill', c.name, () => deps.runtime.stopContainer({ containerId: c.id, timeout: grace }, { timeoutMs: grace * 1000 + STOP_CALL_MARGIN_MS }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return true;
    result.fail({ step: 'kill', reason: 'KillContainerError', message: errorMessage(err), container: c.name });
    return false;
  }
}

export async function killPodWithResult(deps: ExecutorDeps, ref: PodRef, observed: RuntimePodStatus, opts: KillOptions & { remove: boolean }, result: SyncResultBuilder): Promise<void> {
  const active = observed.containers.filter(isActiveContainer);
  // Containers stop in parallel, as the kubelet does; the grace period runs for all at once.
  await Promise.all(active.map(c => killContainer(deps, ref, c, opts, result)));
  if (result.failed) return; // a sandbox is only stopped once its containers are

  for (const s of observed.sandboxes) {
    try {
      await step(deps, ref, 'stopSandbox', undefined, () => deps.runtime.stopPodSandbox({ podSandboxId: s.id }));
    } catch (err) {
      if (!isNotFound(err)) {
        result.fail({ step: 'stopSandbox', reason: 'KillPodSandboxError', message: errorMessage(err) });
        continue;
      }
    }
    await deps.network.release({ podUid: ref.uid, podName: ref.name, podNamespace: ref.namespace, sandboxId: s.id });
  }
  if (!opts.remove || result.failed) return;

  for (const c of observed.containers) {
    await removeIgnoringNotFound(() => deps.runtime.removeContainer({ containerId: c.id }), 'RemoveContainerError', result, c.name);
  }
  for (const s of observed.sandboxes) {
    await removeIgnoringNotFound(() => deps.runtime.removePodSandbox({ podSandboxId: s.id }), 'RemovePodSandboxError', result);
  }
  // The termination-message files and the hosts file this manager made for the pod's containers.
  await rm(join(deps.rootDir, 'pods', ref.uid, 'containers'), { recursive: true, force: true });
  await rm(etcHostsPath(deps.rootDir, ref.uid), { force: true });
}

async function removeIgnoringNotFound(call: () => Promise<unknown>, reason: string, result: SyncResultBuilder, container?: string): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!isNotFound(err)) result.fail({ step: 'remove', reason, message: errorMessage(err), ...(container !== undefined ? { container } : {}) });
  }
}
