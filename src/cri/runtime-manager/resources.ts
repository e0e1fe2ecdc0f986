// Linux resources for ContainerConfig from requests and limits, as the kubelet computes them:
// cpu shares from the request, CFS quota from the limit, the memory limit, and an OOM score
// adjustment by QoS class.
import { totalmem } from 'node:os';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { LinuxContainerResources } from '../types.ts';
import { quantityOrNaN } from '../../pod/quantity.ts';
import { podQosClass } from '../../pod/qos-class.ts';

const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;
const QUOTA_PERIOD_US = 100_000;
const MIN_QUOTA_US = 1000;
const GUARANTEED_OOM_SCORE_ADJ = -997;
const BESTEFFORT_OOM_SCORE_ADJ = 1000;

export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu <= 0) return MIN_SHARES;
  return Math.max(MIN_SHARES, Math.floor((milliCpu * SHARES_PER_CPU) / 1000));
}

export function milliCpuToQuota(milliCpu: number, periodUs = QUOTA_PERIOD_US): number {
  if (milliCpu <= 0) return 0;
  return Math.max(MIN_QUOTA_US, Math.floor((milliCpu * periodUs) / 1000));
}

/** The kubelet's OOM score policy: Guaranteed −997, BestEffort 1000, Burstable in between by
 * how much of the node's memory the container requests. */
export function oomScoreAdj(pod: V1Pod, container: V1Container, memoryCapacityBytes: number): number {
  const qos = podQosClass(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ;
  const request = quantity(container, 'requests', 'memory') ?? quantity(container, 'limits', 'memory') ?? 0;
  const adj = 1000 - Math.floor((1000 * request) / memoryCapacityBytes);
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj >= BESTEFFORT_OOM_SCORE_ADJ) return BESTEFFORT_OOM_SCORE_ADJ - 1;
  return adj;
}

export function containerResources(pod: V1Pod, container: V1Container, memoryCapacityBytes = totalmem()): LinuxContainerResources {
  const cpuLimit = quantity(container, 'limits', 'cpu');
  // An unset request defaults to the limit (API defaulting).
  const cpuRequest = quantity(container, 'requests', 'cpu') ?? cpuLimit ?? 0;
  const memoryLimit = quantity(container, 'limits', 'memory') ?? 0;
  return {
    cpuShares: milliCpuToShares(Math.ceil(cpuRequest * 1000)),
    cpuPeriod: cpuLimit !== undefined ? QUOTA_PERIOD_US : 0,
    cpuQuota: cpuLimit !== undefined ? milliCpuToQuota(Math.ceil(cpuLimit * 1000)) : 0,
    memoryLimitInBytes: Math.floor(memoryLimit),
    oomScoreAdj: oomScoreAdj(pod, container, memoryCapacityBytes),
  };
}

function quantity(c: V1Container, kind: 'requests' | 'limits', name: string): number | undefined {
  const q = c.resources?.[kind]?.[name];
  if (q === undefined) return undefined;
  const v = quantityOrNaN(String(q));
  return Number.isNaN(v) ? undefined : v;
}
