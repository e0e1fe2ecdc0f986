// What every pod source emits: one pod appeared, changed, or went away.
import type { V1Pod } from '@kubernetes/client-node';

export type PodSourceName = 'api' | 'file';

export interface PodUpdate {
  op: 'ADD' | 'UPDATE' | 'DELETE';
  source: PodSourceName;
  pod: V1Pod;
}

export const configSourceAnnotation = 'kubernetes.io/config.source';
export const configHashAnnotation = 'kubernetes.io/config.hash';
export const configMirrorAnnotation = 'kubernetes.io/config.mirror';

export function podUid(pod: V1Pod): string {
  return pod.metadata?.uid ?? '';
}

export function isMirrorPod(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[configMirrorAnnotation] !== undefined;
}

export function isStaticPod(pod: V1Pod): boolean {
  const source = pod.metadata?.annotations?.[configSourceAnnotation];
  return source !== undefined && source !== 'api';
}
