// containerStatuses / initContainerStatuses from the runtime's container instances, as the
// kubelet's convertToAPIContainerStatuses: the newest instance gives the state, the one before
// it the lastState, and a waiting reason from the last sync (CrashLoopBackOff, ErrImagePull, ...)
// replaces a terminated state the manager is about to restart. `started` follows the startup probe
// and `ready` the readiness probe (the prober's verdicts for the newest instance).
import type { V1Container, V1ContainerState, V1ContainerStatus } from '@kubernetes/client-node';
import type { ObservedContainer, SyncResult } from '../../cri/runtime-manager/pod-runtime.ts';
import { isSidecar } from '../../pod/sidecar.ts';
import type { ProbeResultsView } from '../../pod/probe-results.ts';

export interface ContainerStatusInput {
  spec: V1Container;
  /** Every instance of this container, any order. */
  instances: ObservedContainer[];
  isInit: boolean;
  /** Waiting reason when no instance exists yet (ContainerCreating or PodInitializing). */
  defaultWaitingReason: string;
  sync: SyncResult | undefined;
  runtimeName: string;
  probeResults: ProbeResultsView;
  /** Whether an exited instance of this container gets a new one (src/pod/restart-policy.ts). */
  restartsAfterExit: (exitCode: number | undefined) => boolean;
}

export function containerStatus(input: ContainerStatusInput): V1ContainerStatus {
  const { spec, isInit, runtimeName } = input;
  const instances = [...input.instances].sort((a, b) => b.attempt - a.attempt || b.createdAtMs - a.createdAtMs);
  const [newest, previous] = instances;
  const waiting = input.sync?.waiting[spec.name];

  if (!newest) {
    return {
      name: spec.name, image: spec.image ?? '', imageID: '', ready: false, started: false, restartCount: 0,
      state: { waiting: waiting ? { ...waiting } : { reason: input.defaultWaitingReason } },
    };
  }

  let state = apiContainerState(newest, runtimeName);
  let lastState: V1ContainerState = previous ? apiContainerState(previous, runtimeName) : {};
  // A container that ended for good shows how it ended, whatever the last sync said about it.
  const endedForGood = newest.state === 'exited' && !input.restartsAfterExit(newest.exitCode);
  if (waiting && newest.state !== 'running' && !endedForGood) {
    // The manager wants a new instance but cannot start it yet: show why.
    if (state.terminated) lastState = state;
    state = { waiting: { ...waiting } };
  }
  if (!lastState.terminated) lastState = {};
  const running = newest.state === 'running' && !state.waiting;
  const succeeded = !!state.terminated && state.terminated.exitCode === 0;
  const verdicts = input.probeResults(newest.id);
  const started = running && (!spec.startupProbe || verdicts?.startup === 'success');
  const longRunning = !isInit || isSidecar(spec);
  return {
    name: spec.name,
    image: spec.image ?? newest.image,
    imageID: newest.imageRef,
    containerID: `${runtimeName}://${newest.id}`,
    // An init container is ready once it succeeded; the others once started and, with a readiness
    // probe, once it passed.
    ready: longRunning ? started && (!spec.readinessProbe || verdicts?.readiness === 'success') : succeeded,
    started,
    restartCount: Math.max(newest.attempt, instances.length - 1),
    state,
    lastState,
  };
}

function apiContainerState(c: ObservedContainer, runtimeName: string): V1ContainerState {
  switch (c.state) {
    case 'running':
      return { running: { startedAt: dateOf(c.startedAtMs ?? c.createdAtMs) } };
    case 'exited':
      return {
        terminated: {
          exitCode: c.exitCode ?? 0,
          reason: c.reason || ((c.exitCode ?? 0) === 0 ? 'Completed' : 'Error'),
          ...(c.message ? { message: c.message } : {}),
          ...(c.startedAtMs ? { startedAt: dateOf(c.startedAtMs) } : {}),
          ...(c.finishedAtMs ? { finishedAt: dateOf(c.finishedAtMs) } : {}),
          containerID: `${runtimeName}://${c.id}`,
        },
      };
    case 'created':
      return { waiting: { reason: 'ContainerCreating' } };
    default:
      return { waiting: {} };
  }
}

/** API times have whole seconds (RFC 3339 without fractions). */
function dateOf(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
