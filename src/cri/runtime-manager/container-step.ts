// Start one container, as the kubelet's startContainer: image → termination-message file →
// device options → ContainerConfig → CreateContainer → StartContainer → postStart hook. Each
// failure becomes the container's waiting reason: ErrImagePull/ImagePullBackOff/...,
// CreateContainerConfigError, CreateContainerError, RunContainerError, PostStartHookError.
// The sync waits for postStart, so the pod's status shows the container Running only after it.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { PodSandboxConfig } from '../types.ts';
import type { SyncContext } from './pod-runtime.ts';
import { buildContainerConfig } from './container-config.ts';
import { ensureImage } from './image-step.ts';
import { createTerminationMessageFile } from './termination-message.ts';
import { shouldMountEtcHosts, writeEtcHostsFile } from './etc-hosts.ts';
import { errorMessage, type SyncResultBuilder } from './sync-result.ts';
import { step, type ContainerType, type ExecutorDeps } from './executor-deps.ts';
import { runLifecycleHook } from './lifecycle-hooks.ts';
import { killContainer } from './kill-step.ts';
import type { PodRef } from '../../pod/pod-ref.ts';
import { inSpan } from '../../trace/in-span.ts';
import { CONTAINER_ID, CONTAINER_NAME, IMAGE_NAME } from '../../trace/span-attributes.ts';

export interface ContainerStart {
  pod: V1Pod;
  container: V1Container;
  /** Which list of the spec it is in (the kubelet's container_type label). */
  containerType: ContainerType;
  attempt: number;
  backoffKey: string;
  sandboxId: string;
  sandboxConfig: PodSandboxConfig;
  runtimeHandler: string;
  podIPs: string[];
  /** An ephemeral container's target: the running container whose process namespace it joins. */
  pidTargetId?: string;
}

/** Returns true when the container was started. Counted as the kubelet counts a start: every
 * attempt past the restart backoff, and a failure under its reason (the container's waiting reason). */
export async function startContainer(deps: ExecutorDeps, ref: PodRef, s: ContainerStart, ctx: SyncContext, result: SyncResultBuilder): Promise<boolean> {
  deps.metrics.containerStarting(s.containerType);
  const started = await startContainerSteps(deps, ref, s, ctx, result);
  if (!started) deps.metrics.containerStartFailed(s.containerType, result.build().waiting[s.container.name]?.reason ?? 'Unknown');
  return started;
}

async function startContainerSteps(deps: ExecutorDeps, ref: PodRef, s: ContainerStart, ctx: SyncContext, result: SyncResultBuilder): Promise<boolean> {
  const { pod, container } = s;
  const name = container.name;
  const image = await ensureImage(deps, ref, pod, container, s.sandboxConfig, s.runtimeHandler, ctx.getSecret.bind(ctx), result);
  if (!image) return false;

  let config;
  try {
    const terminationMessageHostPath = await createTerminationMessageFile(deps.rootDir, ref.uid, name);
    const devices = await deps.devices.optionsFor(ref.uid, name);
    // Written now, with the sandbox's IPs known, before the container that mounts it is created.
    const etcHostsHostPath = shouldMountEtcHosts(pod, container, s.podIPs) ? await writeEtcHostsFile(deps.rootDir, pod, s.podIPs) : undefined;
    config = await buildContainerConfig({
      etcHostsHostPath,
      pod, container, attempt: s.attempt, imageRef: image.imageRef, imageUser: image.user, terminationMessageHostPath, devices,
      allowPrivileged: deps.allowPrivileged,
      ...(s.pidTargetId ? { pidTargetId: s.pidTargetId } : {}),
      env: { nodeName: ctx.nodeName, hostIP: ctx.hostIP, podIPs: s.podIPs, getSecret: ctx.getSecret.bind(ctx), getConfigMap: ctx.getConfigMap.bind(ctx),
        ...(ctx.services ? { services: ctx.services.bind(ctx) } : {}) },
      volumeMounts: ctx.volumeMounts ? (env) => ctx.volumeMounts!(container, env) : undefined,
    });
  } catch (err) {
    const message = errorMessage(err);
    result.event('Warning', 'Failed', `Error: ${message}`, name);
    result.fail({ step: 'config', reason: 'CreateContainerConfigError', message, container: name });
    return false;
  }

  // A restart counts against the container's backoff (kubelet: backOff.Next before creating).
  if (s.attempt > 0) deps.containerBackoff.next(s.backoffKey);

  let containerId: string;
  try {
    ({ containerId } = await inSpan('CreateContainer', { [CONTAINER_NAME]: name, [IMAGE_NAME]: container.image ?? '', attempt: s.attempt }, () => step(deps, ref, 'create', name, () =>
      deps.runtime.createContainer({ podSandboxId: s.sandboxId, config, sandboxConfig: s.sandboxConfig })), (r) => ({ [CONTAINER_ID]: r.containerId })));
  } catch (err) {
    const message = errorMessage(err);
    result.event('Warning', 'Failed', `Error: ${message}`, name);
    result.fail({ step: 'create', reason: 'CreateContainerError', message, container: name });
    return false;
  }
  result.createdContainer(containerId, s.sandboxId);
  result.event('Normal', 'Created', `Created container: ${name}`, name);

  try {
    await inSpan('StartContainer', { [CONTAINER_NAME]: name, [CONTAINER_ID]: containerId }, () => step(deps, ref, 'start', name, () => deps.runtime.startContainer({ containerId })));
  } catch (err) {
    const message = errorMessage(err);
    result.event('Warning', 'Failed', `Error: ${message}`, name);
    result.fail({ step: 'start', reason: 'RunContainerError', message, container: name });
    return false;
  }
  result.event('Normal', 'Started', `Started container ${name}`, name);

  const postStart = container.lifecycle?.postStart;
  if (postStart) {
    const hook = await runLifecycleHook(deps, ref, 'postStart', postStart, { container, containerId, podIPs: s.podIPs });
    if (!hook.ok) {
      result.event('Warning', 'FailedPostStartHook', hook.message, name);
      await killContainer(deps, ref, { id: containerId, name, state: 'running' }, { pod, message: 'FailedPostStartHook', podIPs: s.podIPs }, result);
      result.fail({ step: 'postStart', reason: 'PostStartHookError', message: hook.message, container: name });
      return false;
    }
  }
  return true;
}
