// The body of a pods/status merge patch: the whole new status, with null for each top-level
// field the previous status had and the new one lacks (a merge patch removes only on null).
import type { V1PodStatus } from '@kubernetes/client-node';
import { withApiTimes } from '../api/api-time.ts';

/** Dates become Times in whole seconds, undefined fields vanish: the form the API server stores. */
export function normalizeStatus(status: V1PodStatus): Record<string, unknown> {
  return withApiTimes(status) as Record<string, unknown>;
}

export function statusEqual(a: V1PodStatus | undefined, b: V1PodStatus | undefined): boolean {
  if (!a || !b) return a === b;
  return JSON.stringify(normalizeStatus(a)) === JSON.stringify(normalizeStatus(b));
}

export function statusMergePatch(previous: V1PodStatus | undefined, next: V1PodStatus): { status: Record<string, unknown> } {
  const body: Record<string, unknown> = normalizeStatus(next);
  for (const key of Object.keys(previous ? normalizeStatus(previous) : {})) {
    if (!(key in body)) body[key] = null;
  }
  return { status: body };
}
