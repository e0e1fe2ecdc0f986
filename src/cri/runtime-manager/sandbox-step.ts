// Create a pod's sandbox: resolve its RuntimeClass to a handler, RunPodSandbox, then learn the
// sandbox's IPs (from the agent's network manager, or the runtime's PodSandboxStatus).
// Failure → CreatePodSandboxError and a FailedCreatePodSandBox event, as the kubelet reports.
import type { V1Pod } from '@kubernetes/client-node';
import type { PodSandboxConfig } from '../types.ts';
import type { SyncContext } from './pod-runtime.ts';
import { sandboxIPs } from './observe.ts';
import { errorMessage, type SyncResultBuilder } from './sync-result.ts';
import { step, type ExecutorDeps } from './executor-deps.ts';
import type { PodRef } from '../../pod/pod-ref.ts';
import { exposeSpanFor, inSpan } from '../../trace/in-span.ts';
import { SANDBOX_ID } from '../../trace/span-attributes.ts';

export interface CreatedSandbox {
  id: string;
  ips: string[];
  runtimeHandler: string;
}

/** The handler for the pod's RuntimeClass ("" = the runtime's default); undefined = unknown class. */
export async function runtimeHandlerOf(pod: V1Pod, ctx: SyncContext): Promise<string | undefined> {
  const className = pod.spec?.runtimeClassName;
  if (!className) return '';
  return ctx.resolveRuntimeHandler(className);
}

export async function createSandbox(
  deps: ExecutorDeps, ref: PodRef, pod: V1Pod, config: PodSandboxConfig, ctx: SyncContext, result: SyncResultBuilder,
): Promise<CreatedSandbox | undefined> {
  // The kubelet counts a pod started when it sets out to make its sandbox (kubelet_started_pods_total).
  deps.metrics.podStarting();
  const fail = (message: string) => {
    deps.metrics.podStartFailed();
    result.fail({ step: 'sandbox', reason: 'CreatePodSandboxError', message });
    result.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${message}`);
    return undefined;
  };

  const runtimeHandler = await runtimeHandlerOf(pod, ctx);
  if (runtimeHandler === undefined) {
    // Never reaches RunPodSandbox: the kubelet fails the lookup with the API's not-found message.
    return fail(`runtimeclass.node.k8s.io "${pod.spec?.runtimeClassName}" not found`);
  }
  if ((config.metadata?.attempt ?? 0) > 0) result.event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');

  // One span for the sandbox and what it took to learn its IPs; the CNI plugins the runtime runs meanwhile nest under it.
  try {
    return await inSpan('RunPodSandbox', { 'runtime.handler': runtimeHandler, attempt: config.metadata?.attempt ?? 0 },
      () => exposeSpanFor(ref.uid, () => runSandbox(deps, ref, pod, config, runtimeHandler, result)),
      (s) => ({ [SANDBOX_ID]: s.id, 'k8s.pod.ip': s.ips.join(',') }));
  } catch (err) {
    return fail(errorMessage(err));
  }
}

async function runSandbox(deps: ExecutorDeps, ref: PodRef, pod: V1Pod, config: PodSandboxConfig, runtimeHandler: string, result: SyncResultBuilder): Promise<CreatedSandbox> {
  const { podSandboxId: id } = await step(deps, ref, 'sandbox', undefined, () => deps.runtime.runPodSandbox({ config, runtimeHandler }));
  result.createdSandbox(id);
  if (pod.spec?.hostNetwork) return { id, ips: [], runtimeHandler };
  try {
    const { status } = await deps.runtime.podSandboxStatus({ podSandboxId: id });
    return { id, ips: status ? sandboxIPs(deps.network, status) : (deps.network.ipsOf(id) ?? []), runtimeHandler };
  } catch (err) {
    deps.logger.debug({ uid: ref.uid, sandbox: id, err: errorMessage(err) }, 'PodSandboxStatus after RunPodSandbox failed');
    return { id, ips: deps.network.ipsOf(id) ?? [], runtimeHandler };
  }
}
