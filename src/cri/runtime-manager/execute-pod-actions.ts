// The executor of computePodActions: computePodActions decides; the steps below do, in the
// kubelet's order (kill pod, create sandbox, kill containers, start init container, start
// containers). A failed sandbox or init container ends the sync; a failed app container does
// not keep the others from starting.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { PodSandboxConfig } from '../types.ts';
import type { RuntimePodStatus, SyncContext, SyncResult } from './pod-runtime.ts';
import { computePodActions, type PodAction } from './compute-pod-actions.ts';
import { buildSandboxConfig } from './sandbox-config.ts';
import { createSandbox, runtimeHandlerOf } from './sandbox-step.ts';
import { startContainer } from './container-step.ts';
import { killContainer, killPodWithResult } from './kill-step.ts';
import { sandboxIPs } from './observe.ts';
import { errorMessage, SyncResultBuilder } from './sync-result.ts';
import type { ExecutorDeps } from './executor-deps.ts';
import { podDescription, podLogFields, type PodRef } from '../../pod/pod-ref.ts';
import { noteOnActiveSpan } from '../../trace/in-span.ts';

interface CurrentSandbox {
  id: string;
  config: PodSandboxConfig;
  runtimeHandler: string;
  ips: string[];
}

export async function executePodActions(deps: ExecutorDeps, pod: V1Pod, observed: RuntimePodStatus, ctx: SyncContext): Promise<SyncResult> {
  const ref: PodRef = { uid: pod.metadata?.uid ?? observed.uid, name: pod.metadata?.name ?? observed.name, namespace: pod.metadata?.namespace ?? observed.namespace };
  const result = new SyncResultBuilder();
  observed = await withSandboxIPs(deps, pod, observed);
  const plan = computePodActions(pod, observed, deps.containerBackoff, deps.clock(), ctx.probeResults);
  deps.logger.debug({ ...podLogFields(ref), actions: plan.actions }, 'computed pod actions');
  noteOnActiveSpan(planAttributes(plan.actions));

  let sandbox: CurrentSandbox | undefined;
  const existing = observed.sandboxes.find(s => s.id === plan.sandboxId);
  if (existing) {
    sandbox = { id: existing.id, config: buildSandboxConfig(pod, existing.attempt, deps), runtimeHandler: existing.runtimeHandler, ips: existing.ips };
  }
  const specOf = (a: Extract<PodAction, { type: 'startContainer' }>): V1Container | undefined =>
    (a.ephemeral ? pod.spec?.ephemeralContainers as V1Container[] | undefined : a.init ? pod.spec?.initContainers : pod.spec?.containers)?.find(c => c.name === a.name);
  /** An ephemeral container's targetContainerName: the running container whose process namespace it joins. */
  const pidTargetOf = (a: Extract<PodAction, { type: 'startContainer' }>): string | undefined => {
    const target = a.ephemeral ? pod.spec?.ephemeralContainers?.find(c => c.name === a.name)?.targetContainerName : undefined;
    return target ? observed.containers.find(c => c.name === target && c.state === 'running' && c.sandboxId === sandbox?.id)?.id : undefined;
  };

  for (const action of plan.actions) {
    if (action.type !== 'wait') result.changesRuntime();
    switch (action.type) {
      case 'killPod':
        await killPodWithResult(deps, ref, observed, { pod, remove: false }, result);
        if (result.failed) return result.build();
        break;
      case 'createSandbox': {
        const config = buildSandboxConfig(pod, action.attempt, deps);
        const created = await createSandbox(deps, ref, pod, config, ctx, result);
        if (!created) return result.build();
        sandbox = { id: created.id, config, runtimeHandler: created.runtimeHandler, ips: created.ips };
        break;
      }
      case 'killContainer': {
        const c = observed.containers.find(x => x.id === action.containerId);
        if (c) await killContainer(deps, ref, c, { pod, message: action.message, podIPs: sandbox?.ips ?? existing?.ips ?? [], ...(action.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: action.gracePeriodSeconds } : {}) }, result);
        break;
      }
      case 'wait':
        result.event('Warning', 'BackOff', `Back-off restarting failed container ${action.name} in pod ${podDescription(ref)}`, action.name);
        result.fail({ step: 'start', reason: action.reason, message: action.message, container: action.name });
        result.retryAfter(action.retryAfterMs);
        break;
      case 'startContainer': {
        const container = specOf(action);
        const pidTargetId = pidTargetOf(action);
        if (!container || !sandbox) break;
        const runtimeHandler = sandbox.runtimeHandler || (await runtimeHandlerOf(pod, ctx)) || '';
        const started = await startContainer(deps, ref, {
          pod, container, containerType: action.ephemeral ? 'ephemeral_container' : action.init ? 'init_container' : 'container', attempt: action.attempt, backoffKey: action.backoffKey, sandboxId: sandbox.id,
          sandboxConfig: sandbox.config, runtimeHandler, podIPs: sandbox.ips, ...(pidTargetId ? { pidTargetId } : {}),
        }, ctx, result);
        // Init containers run one at a time: a failure ends this sync.
        if (!started && action.init) return result.build();
        break;
      }
    }
  }
  return result.build();
}

/** A relist snapshot lacks sandbox IPs (runtime mode); without them computePodActions would
 * replace a healthy sandbox, so ask the runtime for the ready sandbox's IPs first. */
async function withSandboxIPs(deps: ExecutorDeps, pod: V1Pod, observed: RuntimePodStatus): Promise<RuntimePodStatus> {
  const newest = observed.sandboxes[0];
  if (!newest || newest.state !== 'ready' || newest.ips.length > 0 || pod.spec?.hostNetwork) return observed;
  try {
    const { status } = await deps.runtime.podSandboxStatus({ podSandboxId: newest.id });
    if (!status) return observed;
    const hostNetwork = status.linux?.namespaces?.options ? status.linux.namespaces.options.network === 'NODE' : newest.hostNetwork;
    const refreshed = { ...newest, ips: sandboxIPs(deps.network, status), ...(hostNetwork !== undefined ? { hostNetwork } : {}) };
    return { ...observed, sandboxes: [refreshed, ...observed.sandboxes.slice(1)] };
  } catch (err) {
    deps.logger.debug({ uid: observed.uid, sandbox: newest.id, err: errorMessage(err) }, 'PodSandboxStatus failed; using the snapshot');
    return observed;
  }
}

/** What computePodActions decided, for the sync's span: the actions' types and their reasons. */
function planAttributes(actions: PodAction[]): Record<string, string> {
  const reasons = [...new Set(actions.map((a) => a.reason))];
  return { actions: actions.map((a) => a.type).join(',') || 'none', reason: reasons.join('; ') || 'nothing to do' };
}
