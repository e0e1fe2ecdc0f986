// The pod conditions the kubelet owns (PodReadyToStartContainers, Initialized, Ready,
// ContainersReady) plus PodScheduled, kept as the scheduler wrote it. A condition whose status
// did not change keeps its lastTransitionTime.
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import type { PodPhase } from './phase.ts';

export interface ConditionInput {
  pod: V1Pod;
  phase: PodPhase;
  sandboxReady: boolean;
  initStatuses: V1ContainerStatus[];
  statuses: V1ContainerStatus[];
  now: Date;
}

type Condition = Omit<V1PodCondition, 'lastTransitionTime'>;

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

function initializedCondition({ pod, phase, initStatuses }: ConditionInput): Condition {
  const incomplete = (pod.spec?.initContainers ?? [])
    .filter(c => initStatuses.find(s => s.name === c.name)?.state?.terminated?.exitCode !== 0)
    .map(c => c.name);
  if (incomplete.length === 0) return phase === 'Succeeded' ? { type: 'Initialized', status: 'True', reason: 'PodCompleted' } : { type: 'Initialized', status: 'True' };
  return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` };
}

function readyConditions({ pod, phase, statuses }: ConditionInput): Condition[] {
  const both = (c: Omit<Condition, 'type'>): Condition[] => [{ type: 'Ready', ...c }, { type: 'ContainersReady', ...c }];
  if (phase === 'Succeeded') return both({ status: 'False', reason: 'PodCompleted' });
  const unready = (pod.spec?.containers ?? []).filter(c => !statuses.find(s => s.name === c.name)?.ready).map(c => c.name);
  if (unready.length === 0) return both({ status: 'True' });
  return both({ status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` });
}
