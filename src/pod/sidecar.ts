// Native sidecars: init containers with restartPolicy Always. They start in init order, keep
// running beside the app containers, restart whenever they exit, and stop after the app.
import type { V1Container, V1Pod } from '@kubernetes/client-node';

export function isSidecar(c: V1Container): boolean {
  return c.restartPolicy === 'Always';
}

export function sidecarsOf(pod: V1Pod): V1Container[] {
  return (pod.spec?.initContainers ?? []).filter(isSidecar);
}

/** The containers that run for the pod's whole life, and so are probed: sidecars, then the app. */
export function longRunningContainersOf(pod: V1Pod): V1Container[] {
  return [...sidecarsOf(pod), ...(pod.spec?.containers ?? [])];
}
