// Pure construction of the Node object and its status from machine facts and runtime state.
import type { V1Node, V1NodeCondition, V1NodeStatus, V1Taint } from '@kubernetes/client-node';
import type { RuntimeHealth, RuntimeInfo } from '../../cri/runtime-manager/pod-runtime.ts';
import type { MachineFacts } from './machine-facts.ts';
import { formatQuantity } from '../../pod/quantity-canonical.ts';

export const kubeletVersion = 'v1.32.0-mini';

export interface NodeIdentity {
  nodeName: string;
  labels: Record<string, string>;
  taints: V1Taint[];
}

export interface NodeStatusInput {
  nodeName: string;
  facts: MachineFacts;
  nodeIP?: string;
  maxPods: number;
  kubeletPort: number;
  runtimeInfo?: RuntimeInfo;
  /** Undefined when the runtime could not be asked at all. */
  runtimeHealth?: RuntimeHealth;
  extendedResources: Record<string, { capacity: number; allocatable: number }>;
  previousConditions?: V1NodeCondition[];
  now: Date;
}

export function buildNodeObject(id: NodeIdentity, facts: MachineFacts): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.nodeName,
      labels: {
        'kubernetes.io/hostname': id.nodeName,
        'kubernetes.io/os': facts.operatingSystem,
        'kubernetes.io/arch': facts.architecture,
        'beta.kubernetes.io/os': facts.operatingSystem,
        'beta.kubernetes.io/arch': facts.architecture,
        ...id.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: id.taints.length ? { taints: id.taints } : {},
  };
}

/** Why the node is not ready, or undefined when it is. */
function notReadyMessage(input: NodeStatusInput): string | undefined {
  const h = input.runtimeHealth;
  if (!h || !h.runtimeReady) return `container runtime is down${h?.message ? `: ${h.message}` : ''}`;
  if (!h.networkReady) return `container runtime network not ready: ${h.message || 'NetworkReady=false'}`;
  return undefined;
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string, input: NodeStatusInput): V1NodeCondition {
  const prev = input.previousConditions?.find((c) => c.type === type);
  // lastTransitionTime moves only when the status flips, as the kubelet does.
  const transition = prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : input.now;
  return { type, status, reason, message, lastHeartbeatTime: input.now, lastTransitionTime: transition };
}

export function buildNodeStatus(input: NodeStatusInput): V1NodeStatus {
  const f = input.facts;
  // Canonical quantities, as the kubelet's resource.NewQuantity writes them: bytes BinarySI
  // (4 GiB is "4Gi", not "4194304Ki"), counts DecimalSI.
  const resources: Record<string, string> = {
    cpu: formatQuantity(f.cpuCount, 'DecimalSI'),
    memory: formatQuantity(f.memoryBytes, 'BinarySI'),
    pods: formatQuantity(input.maxPods, 'DecimalSI'),
    'ephemeral-storage': formatQuantity(f.rootFsBytes, 'BinarySI'),
  };
  const capacity = { ...resources };
  const allocatable = { ...resources };
  for (const [name, r] of Object.entries(input.extendedResources)) {
    capacity[name] = formatQuantity(r.capacity, 'DecimalSI');
    allocatable[name] = formatQuantity(r.allocatable, 'DecimalSI');
  }
  const notReady = notReadyMessage(input);
  const address = input.nodeIP ?? f.firstIPv4;
  return {
    capacity,
    allocatable,
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', input),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', input),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', input),
      notReady
        ? condition('Ready', 'False', 'KubeletNotReady', notReady, input)
        : condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', input),
    ],
    addresses: [
      ...(address ? [{ type: 'InternalIP', address }] : []),
      { type: 'Hostname', address: input.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: input.kubeletPort } },
    nodeInfo: {
      machineID: f.machineID,
      systemUUID: f.systemUUID,
      bootID: f.bootID,
      kernelVersion: f.kernelVersion,
      osImage: f.osImage,
      containerRuntimeVersion: input.runtimeInfo ? `${input.runtimeInfo.runtimeName}://${input.runtimeInfo.runtimeVersion}` : '',
      kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: f.operatingSystem,
      architecture: f.architecture,
    },
  };
}

/** Status equality for "report on change": heartbeat times do not count as a change. */
export function nodeStatusChanged(a: V1NodeStatus | undefined, b: V1NodeStatus): boolean {
  if (!a) return true;
  const strip = (s: V1NodeStatus) => JSON.stringify({
    ...s,
    conditions: (s.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
  });
  return strip(a) !== strip(b);
}
