// A container's resource as the downward API shows it (env resourceFieldRef and downwardAPI
// volume items): limits.cpu etc. divided by the divisor, rounded up. An unset limit means the
// node's capacity, as the kubelet does.
import { cpus, totalmem } from 'node:os';
import type { V1Pod } from '@kubernetes/client-node';
import { quantityOrNaN } from './quantity.ts';

export function resourceValue(pod: V1Pod, containerName: string, resource: string, divisor: string): string {
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(x => x.name === containerName);
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  const raw = c?.resources?.[kind]?.[name];
  let value = raw !== undefined ? quantityOrNaN(String(raw)) : Number.NaN;
  if (Number.isNaN(value)) value = name === 'cpu' ? (kind === 'limits' ? cpus().length : 0) : name === 'memory' ? (kind === 'limits' ? totalmem() : 0) : 0;
  const d = quantityOrNaN(divisor) || 1;
  return String(Math.ceil(value / d));
}
