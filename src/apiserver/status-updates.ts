// A write to a core kind's status subresource as kube-apiserver's status strategies take it:
// the spec stays as stored, and the new status and metadata are kept. The core status strategies
// (pods, nodes, namespaces, services, volumes and claims) reset only the spec; the generic update
// path then keeps what no update may change (uid, creation and deletion stamps, generation).
// For pods the strategy also keeps the stored ownerReferences (old kubelets corrupted them,
// breaking garbage collection) and backfills status.qosClass, which is fixed at creation, when
// the write leaves it out. So labels, annotations and finalizers may change through pods/status
// (NodeRestriction separately refuses label changes from a node), spec changes are ignored.
import type { FieldError } from './errors.ts';
import type { KubeObject } from './store.ts';

const fixedMetadata = ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'];
const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

export function statusUpdate(kind: string, existing: KubeObject, incoming: KubeObject): { next: KubeObject; errors: FieldError[] } {
  const metadata: Record<string, any> = { ...(incoming.metadata ?? {}) };
  for (const k of fixedMetadata) {
    if (existing.metadata[k] === undefined) delete metadata[k];
    else metadata[k] = existing.metadata[k];
  }
  const next: KubeObject = { ...existing, metadata, status: incoming.status };
  const errors: FieldError[] = [];
  if (kind === 'Pod') {
    if (existing.metadata.ownerReferences === undefined) delete metadata.ownerReferences;
    else metadata.ownerReferences = existing.metadata.ownerReferences;
    if (existing.status?.qosClass && !incoming.status?.qosClass) next.status = { ...(incoming.status ?? {}), qosClass: existing.status.qosClass };
    errors.push(...mirrorAnnotationErrors(existing.metadata.annotations, metadata.annotations));
  }
  errors.push(...newFinalizerErrors(existing, next));
  return { next, errors };
}

/** The mirror pod annotation is the kubelet's mark at creation; no update adds, changes or removes it. */
function mirrorAnnotationErrors(before: Record<string, string> = {}, after: Record<string, string> = {}): FieldError[] {
  const field = `metadata.annotations[${mirrorPodAnnotation}]`;
  const [had, has] = [before?.[mirrorPodAnnotation], after?.[mirrorPodAnnotation]];
  if (had !== undefined && had !== has) return [{ type: 'Forbidden', field, detail: 'may not remove or update mirror pod annotation' }];
  if (had === undefined && has !== undefined) return [{ type: 'Forbidden', field, detail: 'may not add mirror pod annotation' }];
  return [];
}

/** An object being deleted may lose finalizers, never gain them. */
function newFinalizerErrors(existing: KubeObject, next: KubeObject): FieldError[] {
  if (!existing.metadata.deletionTimestamp) return [];
  const had = new Set<string>(Array.isArray(existing.metadata.finalizers) ? existing.metadata.finalizers : []);
  const added = [...new Set<string>(Array.isArray(next.metadata.finalizers) ? next.metadata.finalizers : [])].filter((f) => !had.has(f)).sort();
  if (added.length === 0) return [];
  const shown = `[]string{${added.map((f) => JSON.stringify(f)).join(', ')}}`;
  return [{ type: 'Forbidden', field: 'metadata.finalizers', detail: `no new finalizers can be added if the object is being deleted, found new finalizers ${shown}` }];
}
