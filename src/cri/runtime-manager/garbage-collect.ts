// Container and sandbox garbage collection, as the kubelet's container GC with its defaults:
// keep the newest dead instance of each container (MaxPerPodContainer = 1), remove older ones;
// remove dead sandboxes that are neither the pod's newest nor hold containers; and stop and
// remove everything of pods the agent no longer knows.
import { isNotFound } from '../errors.ts';
import type { RuntimePodStatus } from './pod-runtime.ts';
import { killPodWithResult } from './kill-step.ts';
import { relist } from './observe.ts';
import { podLogFields } from '../../pod/pod-ref.ts';
import { withPodLogScope } from '../../pod/pod-log-scope.ts';
import { errorMessage, SyncResultBuilder } from './sync-result.ts';
import type { ExecutorDeps } from './executor-deps.ts';

export async function garbageCollect(deps: ExecutorDeps, knownPodUids: ReadonlySet<string>): Promise<void> {
  deps.containerBackoff.gc();
  deps.imageBackoff.gc();
  for (const pod of await relist(deps)) {
    // Each pod's collection in its log scope: its CRI calls' lines carry its pod and uid.
    await withPodLogScope(podLogFields(pod), () => collectPod(deps, pod, knownPodUids.has(pod.uid)));
  }
}

async function collectPod(deps: ExecutorDeps, pod: RuntimePodStatus, known: boolean): Promise<void> {
  if (!known) {
    const result = new SyncResultBuilder();
    await killPodWithResult(deps, pod, pod, { remove: true }, result);
    for (const f of result.build().failures) deps.logger.warn({ ...podLogFields(pod), reason: f.reason, err: f.message }, 'removing an unknown pod failed');
    return;
  }
  await removeDeadInstances(deps, pod);
}

async function removeDeadInstances(deps: ExecutorDeps, pod: RuntimePodStatus): Promise<void> {
  const kept = new Set<string>();
  const seenDead = new Set<string>();
  for (const c of pod.containers) { // newest first
    if (c.state !== 'exited') {
      kept.add(c.id);
      continue;
    }
    if (!seenDead.has(c.name)) {
      seenDead.add(c.name);
      kept.add(c.id);
      continue;
    }
    await removeQuietly(deps, pod, 'container', c.id, () => deps.runtime.removeContainer({ containerId: c.id }));
  }
  const sandboxesInUse = new Set(pod.containers.filter(c => kept.has(c.id)).map(c => c.sandboxId));
  for (const [i, s] of pod.sandboxes.entries()) {
    if (i === 0 || s.state === 'ready' || sandboxesInUse.has(s.id)) continue;
    await removeQuietly(deps, pod, 'sandbox', s.id, () => deps.runtime.removePodSandbox({ podSandboxId: s.id }));
  }
}

async function removeQuietly(deps: ExecutorDeps, pod: RuntimePodStatus, kind: string, id: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
    deps.logger.debug({ uid: pod.uid, [kind]: id }, `garbage-collected ${kind}`);
  } catch (err) {
    if (!isNotFound(err)) deps.logger.warn({ uid: pod.uid, [kind]: id, err: errorMessage(err) }, `garbage collection of ${kind} failed`);
  }
}
