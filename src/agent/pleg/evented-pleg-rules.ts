// The evented PLEG's decisions, pure: which pod a runtime event is about, and which PLEG runs
// after the event stream opened, failed or ended.
import { GrpcStatus } from '../../cri/errors.ts';
import { POD_UID_LABEL } from '../../cri/runtime-manager/labels.ts';
import type { ContainerEventResponse } from '../../cri/types.ts';
import type { RuntimeChange } from './pod-status-cache.ts';

/** The pod UID an event names: the io.kubernetes.pod.uid label of the sandbox (the label relist
 * groups by), else the sandbox's metadata, else the label of the container it is about. An event
 * whose sandbox is gone may name none: `known` (ids seen in earlier events) answers then. */
export function podUidOfEvent(event: ContainerEventResponse, known: ReadonlyMap<string, string> = new Map()): string | undefined {
  const sandbox = event.podSandboxStatus;
  const fromSandbox = sandbox?.labels?.[POD_UID_LABEL] || sandbox?.metadata?.uid;
  if (fromSandbox) return fromSandbox;
  const container = event.containersStatuses.find((c) => c.id === event.containerId);
  return container?.labels?.[POD_UID_LABEL] || known.get(event.containerId) || undefined;
}

/** Every id an event shows (its subject, the sandbox, each container), to remember their pod for later events. */
export function idsOfEvent(event: ContainerEventResponse): string[] {
  const ids = [event.containerId];
  if (event.podSandboxStatus?.id) ids.push(event.podSandboxStatus.id);
  for (const c of event.containersStatuses) ids.push(c.id);
  return ids;
}

/** The event's change in the runtime pod cache's words. */
export function runtimeChangeOf(type: ContainerEventResponse['containerEventType']): RuntimeChange {
  switch (type) {
    case 'CONTAINER_CREATED_EVENT': return 'created';
    case 'CONTAINER_STARTED_EVENT': return 'started';
    case 'CONTAINER_STOPPED_EVENT': return 'stopped';
    default: return 'deleted';
  }
}

export type StreamOutcome =
  | { kind: 'opened' }
  /** The stream failed with this gRPC status (undefined: not a gRPC error). */
  | { kind: 'failed'; code: number | undefined }
  /** The runtime ended the stream without an error. */
  | { kind: 'ended' };

export type PlegMode = 'evented' | 'generic';

export interface PlegDecision {
  /** evented: the slow relist plus events; generic: the 1 s relist. */
  mode: PlegMode;
  /** When to open the stream again; undefined: never (the runtime has none). */
  retryInMs?: number;
}

export interface StreamBackoff {
  initialMs: number;
  maxMs: number;
}

/** What runs next. `failures`: how many times in a row the stream has failed or ended without
 * having opened (1 for the first), which sets the retry delay: initial, doubled each time, capped. */
export function plegAfter(outcome: StreamOutcome, failures: number, backoff: StreamBackoff): PlegDecision {
  if (outcome.kind === 'opened') return { mode: 'evented' };
  // containerd 1.6: no stream, now or later (the kubelet does not ask again either).
  if (outcome.kind === 'failed' && outcome.code === GrpcStatus.UNIMPLEMENTED) return { mode: 'generic' };
  const doublings = Math.max(0, failures - 1);
  return { mode: 'generic', retryInMs: Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(doublings, 30)) };
}
