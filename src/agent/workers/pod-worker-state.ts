// A pod's lifecycle as explicit states, one log line per transition with the time spent
// getting there: the trace a reader follows from watch event to Running.
import type { Logger } from 'pino';
import type { RuntimePodStatus } from '../../cri/runtime-manager/pod-runtime.ts';
import type { PodRecord } from './pod-registry.ts';

export type LifecycleState =
  | 'Admitted' | 'Rejected' | 'SandboxReady' | 'ContainersStarting' | 'Running'
  | 'Succeeded' | 'Failed' | 'Terminating' | 'Terminated';

/** Where a running pod stands, judged from what the runtime holds after a sync. */
export function runningStateOf(observed: RuntimePodStatus, expectedContainers: number, phase?: string): LifecycleState | undefined {
  if (phase === 'Succeeded' || phase === 'Failed') return phase;
  const sandbox = observed.sandboxes[0];
  if (!sandbox || sandbox.state !== 'ready') return undefined;
  const names = new Set(observed.containers.filter((c) => c.sandboxId === sandbox.id && c.state === 'running').map((c) => c.name));
  if (expectedContainers > 0 && names.size >= expectedContainers) return 'Running';
  return observed.containers.some((c) => c.sandboxId === sandbox.id) ? 'ContainersStarting' : 'SandboxReady';
}

export function moveTo(record: PodRecord, state: LifecycleState | undefined, logger: Logger, extra: Record<string, unknown> = {}): void {
  if (!state || record.state === state) return;
  const now = Date.now();
  logger.info({
    pod: `${record.pod.metadata?.namespace}/${record.pod.metadata?.name}`,
    uid: record.uid,
    step: state,
    from: record.state,
    ms: now - record.stateSinceMs,
    ...extra,
  }, `pod ${state}`);
  record.state = state;
  record.stateSinceMs = now;
}
