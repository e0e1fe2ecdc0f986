// The pod conditions the kubelet owns (PodReadyToStartContainers, Initialized, Ready,
// ContainersReady) plus PodScheduled, kept as the scheduler wrote it. A condition whose status
// did not change keeps its lastTransitionTime. Conditions other components own (readiness
// gates' among them) are kept as they are, and the gates hold Ready until theirs are True.
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import type { PodPhase } from './phase.ts';
import { isSidecar, sidecarsOf } from '../../pod/sidecar.ts';

export interface ConditionInput {
  pod: V1Pod;
  phase: PodPhase;
  sandboxReady: boolean;
  initStatuses: V1ContainerStatus[];
  statuses: V1ContainerStatus[];
  now: Date;
}

type Condition = Omit<V1PodCondition, 'lastTransitionTime'>;

/** The condition types this file writes; any other type belongs to another component. */
export const KUBELET_CONDITION_TYPES: ReadonlySet<string> = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

export function podConditions(input: ConditionInput): V1PodCondition[] {
  const previous = input.pod.status?.conditions ?? [];
  const generated: Condition[] = [
    { type: 'PodReadyToStartContainers', status: input.sandboxReady ? 'True' : 'False' },
    initializedCondition(input),
    ...readyConditions(input),
  ];
  const scheduled = previous.find(c => c.type === 'PodScheduled');
  const withTimes: V1PodCondition[] = generated.map(c => {
    const before = previous.find(p => p.type === c.type);
    const lastTransitionTime = before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : input.now;
    return { ...c, lastTransitionTime };
  });
  withTimes.push(scheduled ?? { type: 'PodScheduled', status: 'True', lastTransitionTime: input.now });
  // Conditions other components own (readiness gates, DisruptionTarget, ...) stay as they are.
  const ours = new Set(withTimes.map(c => c.type));
  return [...withTimes, ...previous.filter(c => !ours.has(c.type))];
}

function initializedCondition({ pod, phase, initStatuses, statuses }: ConditionInput): Condition {
  const appStarted = statuses.some(s => s.state?.running || s.state?.terminated || s.lastState?.terminated);
  // A regular init container must have succeeded, a sidecar must have started.
  const incomplete = appStarted ? [] : (pod.spec?.initContainers ?? [])
    .filter(c => {
      const s = initStatuses.find(x => x.name === c.name);
      return isSidecar(c) ? !s?.started : s?.state?.terminated?.exitCode !== 0;
    })
    .map(c => c.name);
  if (incomplete.length === 0) return phase === 'Succeeded' ? { type: 'Initialized', status: 'True', reason: 'PodCompleted' } : { type: 'Initialized', status: 'True' };
  return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` };
}

/** ContainersReady: every sidecar and app container ready. Ready: that, and every readiness gate's condition True. */
function readyConditions({ pod, phase, initStatuses, statuses }: ConditionInput): Condition[] {
  if (phase === 'Succeeded') return ['Ready', 'ContainersReady'].map(type => ({ type, status: 'False', reason: 'PodCompleted' }));
  const unready = [
    ...sidecarsOf(pod).filter(c => !initStatuses.find(s => s.name === c.name)?.ready),
    ...(pod.spec?.containers ?? []).filter(c => !statuses.find(s => s.name === c.name)?.ready),
  ].map(c => c.name);
  const containersReady: Omit<Condition, 'type'> = unready.length === 0
    ? { status: 'True' }
    : { status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  const gates = containersReady.status === 'True' ? readinessGateProblems(pod) : [];
  const ready: Omit<Condition, 'type'> = gates.length === 0 ? containersReady : { status: 'False', reason: 'ReadinessGatesNotReady', message: gates.join(', ') };
  return [{ type: 'Ready', ...ready }, { type: 'ContainersReady', ...containersReady }];
}

/** Why each readiness gate holds the pod back, judged from the conditions other components set. */
function readinessGateProblems(pod: V1Pod): string[] {
  const conditions = pod.status?.conditions ?? [];
  return (pod.spec?.readinessGates ?? []).flatMap(({ conditionType }) => {
    const c = conditions.find(x => x.type === conditionType);
    if (!c) return [`corresponding condition of pod readiness gate "${conditionType}" does not exist.`];
    return c.status === 'True' ? [] : [`the status of pod readiness gate "${conditionType}" is not "True", but ${c.status}`];
  });
}
