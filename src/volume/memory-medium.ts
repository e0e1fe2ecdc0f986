// The size of a memory-backed volume (emptyDir medium Memory, and the tmpfs under secret and
// projected volumes), as the kubelet sizes it: the pod's memory limit, or the node's memory
// when the pod sets none, lowered to the volume's sizeLimit when that is smaller. Without a
// size, tmpfs would take half the machine's memory whatever the pod may use.
import { totalmem } from 'node:os';
import type { V1Pod } from '@kubernetes/client-node';
import { quantityOrNaN } from '../pod/quantity.ts';

export function memoryVolumeBytes(pod: V1Pod, sizeLimit: string | undefined, nodeMemory = totalmem()): number {
  let podLimit = 0;
  for (const c of pod.spec?.containers ?? []) {
    const limit = quantityOrNaN(String(c.resources?.limits?.memory ?? '0'));
    if (!Number.isNaN(limit)) podLimit += limit;
  }
  const base = podLimit > 0 ? podLimit : nodeMemory;
  const limit = sizeLimit !== undefined ? quantityOrNaN(String(sizeLimit)) : Number.NaN;
  return Math.ceil(limit > 0 && limit < base ? limit : base);
}
