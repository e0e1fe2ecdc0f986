// generatePodStatus: the pod's status as the API shows it, computed from what the runtime
// holds (RuntimePodStatus), what the last sync could not do (SyncResult) and the prober's
// verdicts. PURE: the clock and the node's facts come in through ctx. A terminal phase never
// changes back, and keeps the reason and message it was given (DeadlineExceeded, Evicted, ...).
import type { V1Container, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { RuntimePodStatus, SyncResult } from '../../cri/runtime-manager/pod-runtime.ts';
import { containerStatus } from './container-statuses.ts';
import { podConditions } from './conditions.ts';
import { podPhase } from './phase.ts';
import { podQosClass } from '../../pod/qos-class.ts';
import { initRestartsAfterExit, restartsAfterExit } from '../../pod/restart-policy.ts';
import { isSidecar } from '../../pod/sidecar.ts';
import { noProbeResults, type ProbeResultsView } from '../../pod/probe-results.ts';

export interface PodStatusContext {
  hostIP: string;
  /** The pod's IPs, primary first (for hostNetwork pods the agent may pass the node's IP). */
  podIPs: string[];
  now: Date;
  /** Prefix of containerID, "<runtimeName>://<id>"; default "containerd". */
  runtimeName?: string;
  /** The prober's verdicts by container ID; default: none (no probes run). */
  probeResults?: ProbeResultsView;
}

export function generatePodStatus(pod: V1Pod, observed: RuntimePodStatus, sync: SyncResult | undefined, ctx: PodStatusContext): V1PodStatus {
  const previous = pod.status ?? {};
  const runtimeName = ctx.runtimeName ?? 'containerd';
  const initSpecs = pod.spec?.initContainers ?? [];
  const instancesOf = (name: string) => observed.containers.filter(c => c.name === name);
  const probeResults = ctx.probeResults ?? noProbeResults;

  const policy = pod.spec?.restartPolicy;
  const initStatuses = initSpecs.map(spec =>
    containerStatus({ spec, instances: instancesOf(spec.name), isInit: true, defaultWaitingReason: 'PodInitializing', sync, runtimeName, probeResults,
      restartsAfterExit: (code) => initRestartsAfterExit(spec, policy, code) }));
  const initDone = initSpecs.every((spec, i) => (isSidecar(spec) ? initStatuses[i]!.started : initStatuses[i]!.state?.terminated?.exitCode === 0));
  const statuses = (pod.spec?.containers ?? []).map(spec =>
    containerStatus({ spec, instances: instancesOf(spec.name), isInit: false, defaultWaitingReason: initDone ? 'ContainerCreating' : 'PodInitializing', sync, runtimeName, probeResults,
      restartsAfterExit: (code) => restartsAfterExit(policy, code) }));

  const previousPhase = previous.phase;
  const terminal = previousPhase === 'Succeeded' || previousPhase === 'Failed';
  const phase = terminal ? (previousPhase as 'Succeeded' | 'Failed') : podPhase(pod, initStatuses, statuses);

  const hostNetwork = pod.spec?.hostNetwork === true;
  const podIPs = ctx.podIPs.length ? ctx.podIPs : hostNetwork && ctx.hostIP ? [ctx.hostIP] : (previous.podIPs ?? []).map(p => p.ip);
  const sandbox = observed.sandboxes[0];

  const status: V1PodStatus = {
    phase,
    conditions: podConditions({ pod, phase, sandboxReady: sandbox?.state === 'ready', initStatuses, statuses, now: ctx.now }),
    hostIP: ctx.hostIP,
    hostIPs: ctx.hostIP ? [{ ip: ctx.hostIP }] : [],
    startTime: previous.startTime ?? ctx.now,
    qosClass: podQosClass(pod),
    containerStatuses: statuses,
  };
  if (podIPs.length) {
    status.podIP = podIPs[0];
    status.podIPs = podIPs.map(ip => ({ ip }));
  }
  if (initSpecs.length) status.initContainerStatuses = initStatuses;
  // Ephemeral containers (kubectl debug) are never ready and never decide the phase.
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).map(spec => ({
    ...containerStatus({ spec: spec as V1Container, instances: instancesOf(spec.name), isInit: false, defaultWaitingReason: 'ContainerCreating', sync, runtimeName, probeResults,
      restartsAfterExit: () => false }),
    ready: false,
  }));
  if (ephemeral.length) status.ephemeralContainerStatuses = ephemeral;
  if (terminal && previous.reason) status.reason = previous.reason;
  if (terminal && previous.message) status.message = previous.message;
  return status;
}
