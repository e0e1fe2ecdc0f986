// The pod phase from its container statuses, as the kubelet's getPhase. Sidecars (restartable
// init containers) hold the pod Pending until they have started, unless an app container already
// ran; once they run they count as running, and how they ended never decides the phase.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { isSidecar } from '../../pod/sidecar.ts';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export function podPhase(pod: V1Pod, initStatuses: V1ContainerStatus[], statuses: V1ContainerStatus[]): PodPhase {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const initContainers = pod.spec?.initContainers ?? [];
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of initContainers.filter((x) => !isSidecar(x))) {
    const s = initStatuses.find(x => x.name === c.name);
    if (s?.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s?.state?.waiting && s.lastState?.terminated) {
      if (s.lastState.terminated.exitCode !== 0) failedInit++;
    } else {
      pendingInit++;
    }
  }

  let unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0, pendingSidecars = 0;
  for (const c of initContainers.filter(isSidecar)) {
    const s = initStatuses.find(x => x.name === c.name);
    if (!s?.state) { pendingSidecars++; unknown++; }
    else if (s.state.running) {
      if (!s.started) pendingSidecars++;
      running++;
    } else if (s.state.waiting && !s.lastState?.terminated) { pendingSidecars++; waiting++; }
  }
  for (const c of pod.spec?.containers ?? []) {
    const s = statuses.find(x => x.name === c.name);
    if (!s?.state) unknown++;
    else if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  const appStarted = statuses.some(s => s.state?.running || s.state?.terminated || s.lastState?.terminated);

  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  if (pendingInit > 0 || (pendingSidecars > 0 && !appStarted) || waiting > 0) return 'Pending';
  // A failed init container that will be restarted keeps the pod pending.
  if (failedInit > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}
