// ConfigMaps and Secrets with `immutable: true` (kube's validation on update): their data and the
// flag itself never change again; only metadata may. Kubelets rely on it to stop watching them.
import { isDeepStrictEqual } from 'node:util';
import type { FieldError } from './errors.ts';
import type { KubeObject } from './store.ts';

const frozen = 'field is immutable when `immutable` is set';

export function immutableDataErrors(kind: string, existing: KubeObject, next: KubeObject): FieldError[] {
  if ((kind !== 'ConfigMap' && kind !== 'Secret') || existing.immutable !== true) return [];
  const errors: FieldError[] = [];
  if (next.immutable !== true) errors.push({ type: 'Forbidden', field: 'immutable', detail: frozen });
  for (const field of ['data', kind === 'ConfigMap' ? 'binaryData' : 'type'] as const) {
    if (!isDeepStrictEqual(existing[field] ?? {}, next[field] ?? {})) errors.push({ type: 'Forbidden', field, detail: frozen });
  }
  return errors;
}
