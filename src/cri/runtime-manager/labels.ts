// The io.kubernetes.* labels and annotations the kubelet puts on CRI sandboxes and
// containers. They are the agent's memory: after a restart, everything about a pod's
// sandboxes and containers is read back from them (crictl and monitoring read them too).
import { createHash } from 'node:crypto';
import type { V1Container, V1Pod } from '@kubernetes/client-node';

export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';

export const CONTAINER_HASH_ANNOTATION = 'io.kubernetes.container.hash';
export const RESTART_COUNT_ANNOTATION = 'io.kubernetes.container.restartCount';
export const TERMINATION_MESSAGE_PATH_ANNOTATION = 'io.kubernetes.container.terminationMessagePath';
export const TERMINATION_MESSAGE_POLICY_ANNOTATION = 'io.kubernetes.container.terminationMessagePolicy';
export const PRESTOP_HANDLER_ANNOTATION = 'io.kubernetes.container.preStopHandler';
export const PORTS_ANNOTATION = 'io.kubernetes.container.ports';
export const DELETION_GRACE_PERIOD_ANNOTATION = 'io.kubernetes.pod.deletionGracePeriod';
export const TERMINATION_GRACE_PERIOD_ANNOTATION = 'io.kubernetes.pod.terminationGracePeriod';
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

export type StringMap = Record<string, string>;

/** Sandbox labels: the pod's own labels plus the three identity labels (which win). */
export function sandboxLabels(pod: V1Pod): StringMap {
  return { ...(pod.metadata?.labels ?? {}), ...podIdentityLabels(pod) };
}

/** Sandbox annotations: the pod's annotations, so runtimes and CNI plugins can read them. */
export function sandboxAnnotations(pod: V1Pod): StringMap {
  return { ...(pod.metadata?.annotations ?? {}) };
}

export function containerLabels(pod: V1Pod, container: V1Container): StringMap {
  return { ...podIdentityLabels(pod), [CONTAINER_NAME_LABEL]: container.name };
}

export function containerAnnotations(pod: V1Pod, container: V1Container, restartCount: number): StringMap {
  const annotations: StringMap = {
    [CONTAINER_HASH_ANNOTATION]: containerSpecHash(container),
    [RESTART_COUNT_ANNOTATION]: String(restartCount),
    [TERMINATION_MESSAGE_PATH_ANNOTATION]: container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH,
    [TERMINATION_MESSAGE_POLICY_ANNOTATION]: container.terminationMessagePolicy ?? 'File',
    [TERMINATION_GRACE_PERIOD_ANNOTATION]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
  };
  if (pod.metadata?.deletionGracePeriodSeconds !== undefined) {
    annotations[DELETION_GRACE_PERIOD_ANNOTATION] = String(pod.metadata.deletionGracePeriodSeconds);
  }
  if (container.lifecycle?.preStop) annotations[PRESTOP_HANDLER_ANNOTATION] = JSON.stringify(container.lifecycle.preStop);
  if (container.ports?.length) annotations[PORTS_ANNOTATION] = JSON.stringify(container.ports);
  return annotations;
}

function podIdentityLabels(pod: V1Pod): StringMap {
  return {
    [POD_NAME_LABEL]: pod.metadata?.name ?? '',
    [POD_NAMESPACE_LABEL]: pod.metadata?.namespace ?? 'default',
    [POD_UID_LABEL]: pod.metadata?.uid ?? '',
  };
}

/** A stable hash of a container spec: sha-256 of its canonical JSON (sorted keys). Any change
 * to the spec (image, command, env, ...) changes it, which makes the manager restart it. */
export function containerSpecHash(container: V1Container): string {
  return createHash('sha256').update(canonicalJson(container)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** What the labels and annotations of a CRI container tell about it. */
export interface ContainerIdentity {
  podUid: string;
  podName: string;
  podNamespace: string;
  containerName: string;
  specHash: string;
  restartCount: number;
  terminationMessagePath: string;
  terminationMessagePolicy: string;
  terminationGracePeriodSeconds?: number;
  preStop?: unknown;
}

export function podIdentityOf(labels: StringMap | undefined): { uid: string; name: string; namespace: string } | undefined {
  const uid = labels?.[POD_UID_LABEL];
  if (!uid) return undefined;
  return { uid, name: labels[POD_NAME_LABEL] ?? '', namespace: labels[POD_NAMESPACE_LABEL] ?? '' };
}

export function containerIdentityOf(labels: StringMap | undefined, annotations: StringMap | undefined): ContainerIdentity | undefined {
  const pod = podIdentityOf(labels);
  if (!pod) return undefined;
  const a = annotations ?? {};
  const restartCount = Number.parseInt(a[RESTART_COUNT_ANNOTATION] ?? '0', 10);
  const grace = a[TERMINATION_GRACE_PERIOD_ANNOTATION];
  let preStop: unknown;
  try {
    preStop = a[PRESTOP_HANDLER_ANNOTATION] ? JSON.parse(a[PRESTOP_HANDLER_ANNOTATION]) : undefined;
  } catch {
    preStop = undefined;
  }
  return {
    podUid: pod.uid,
    podName: pod.name,
    podNamespace: pod.namespace,
    containerName: labels?.[CONTAINER_NAME_LABEL] ?? '',
    specHash: a[CONTAINER_HASH_ANNOTATION] ?? '',
    restartCount: Number.isFinite(restartCount) ? restartCount : 0,
    terminationMessagePath: a[TERMINATION_MESSAGE_PATH_ANNOTATION] ?? DEFAULT_TERMINATION_MESSAGE_PATH,
    terminationMessagePolicy: a[TERMINATION_MESSAGE_POLICY_ANNOTATION] ?? 'File',
    terminationGracePeriodSeconds: grace !== undefined && grace !== '' ? Number(grace) : undefined,
    preStop,
  };
}
