// Whether a container that exited gets a new instance: the pod's restartPolicy for app
// containers, Always for sidecars, and for other init containers a restart only after a failure
// unless the pod says Never. One rule for the runtime manager's decisions and the status.
import type { V1Container } from '@kubernetes/client-node';
import { isSidecar } from './sidecar.ts';

export function restartsAfterExit(podRestartPolicy: string | undefined, exitCode: number | undefined): boolean {
  const policy = podRestartPolicy ?? 'Always';
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

export function initRestartsAfterExit(spec: V1Container, podRestartPolicy: string | undefined, exitCode: number | undefined): boolean {
  if (isSidecar(spec)) return true;
  return exitCode !== 0 && (podRestartPolicy ?? 'Always') !== 'Never';
}
