// A pod's lifecycle as a person follows it in the log (--v 4): where the pod stands, computed
// from what its worker knows (the pod, the runtime's view of it after a sync, the phase that view
// gave). PURE; table-tested in test/unit/agent-pod-lifecycle.test.ts. The worker logs a line each
// time it changes (pod-worker-state.ts, changeWorkerState), never for a sync that left it put:
//   Admitted → SandboxReady → ContainersStarting → Running   (ContainersFailing ⇄ Running)
//   → Terminating → Terminated
import type { V1Pod } from '@kubernetes/client-node';
import type { ObservedContainer, RuntimePodStatus } from '../../cri/runtime-manager/pod-runtime.ts';
import { isTerminalPhase } from '../../pod/phase.ts';
import { longRunningContainersOf } from '../../pod/sidecar.ts';

export type PodLifecycleState =
  /** Admitted by the node; no ready sandbox yet (volumes, image pulls, the sandbox to come). */
  | 'Admitted'
  /** The sandbox is ready (network set up); none of its containers exists yet. */
  | 'SandboxReady'
  /** Containers are being created and started (init containers first), not all running yet. */
  | 'ContainersStarting'
  /** Every long-running container (sidecars and app containers) runs in the ready sandbox. */
  | 'Running'
  /** A long-running container exited and waits to restart (a crash loop), in a phase not final. */
  | 'ContainersFailing'
  /** Deleted, or in a final phase, and something of it still runs. */
  | 'Terminating'
  /** Deleted or in a final phase, and nothing of it runs. */
  | 'Terminated';

/** The order a pod goes through while it starts. */
export const STARTUP_STATES = ['Admitted', 'SandboxReady', 'ContainersStarting', 'Running'] as const satisfies readonly PodLifecycleState[];

export interface PodLifecycleFacts {
  pod: V1Pod;
  /** The runtime's view of the pod (newest sandbox and containers first). */
  observed: RuntimePodStatus;
  /** The phase the status computed from `observed` shows (or the latest known). */
  phase?: string;
}

export function podLifecycleOf({ pod, observed, phase }: PodLifecycleFacts): PodLifecycleState {
  const runs = observed.sandboxes.some((s) => s.state === 'ready') || observed.containers.some((c) => c.state === 'running');
  if (pod.metadata?.deletionTimestamp || isTerminalPhase(phase)) return runs ? 'Terminating' : 'Terminated';
  const sandbox = observed.sandboxes[0];
  if (!sandbox || sandbox.state !== 'ready') return 'Admitted';
  const inSandbox = observed.containers.filter((c) => c.sandboxId === sandbox.id);
  if (inSandbox.length === 0) return 'SandboxReady';
  const newest = new Map<string, ObservedContainer>();
  for (const c of inSandbox) if (!newest.has(c.name)) newest.set(c.name, c);
  const wanted = longRunningContainersOf(pod).map((c) => c.name);
  const states = wanted.map((name) => newest.get(name)?.state);
  if (wanted.length > 0 && states.every((s) => s === 'running')) return 'Running';
  if (states.some((s) => s === 'exited')) return 'ContainersFailing';
  return 'ContainersStarting';
}

/** The states a sync went through, in order, from `from` to `to`: one sync often creates the sandbox
 * and starts the containers, and each step still gets its line (SandboxReady when the sync made a
 * sandbox, ContainersStarting when it made containers). Empty when the state did not change. */
export function lifecycleStepsOf(
  from: PodLifecycleState, to: PodLifecycleState, created: { sandbox: boolean; containers: boolean },
): PodLifecycleState[] {
  if (from === to) return [];
  const at = (s: PodLifecycleState) => (STARTUP_STATES as readonly PodLifecycleState[]).indexOf(s);
  const start = at(from);
  const end = at(to);
  if (start < 0 || end < 0 || end <= start) return [to];
  const steps: PodLifecycleState[] = [];
  for (const s of STARTUP_STATES.slice(start + 1, end)) {
    if ((s === 'SandboxReady' && created.sandbox) || (s === 'ContainersStarting' && created.containers)) steps.push(s);
  }
  return [...steps, to];
}
