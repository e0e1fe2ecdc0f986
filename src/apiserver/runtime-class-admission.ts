// The RuntimeClass admission step kube-apiserver runs on every pod create (after the
// ServiceAccount and DefaultTolerationSeconds steps): a pod naming a RuntimeClass that does not
// exist is refused; the class's fixed pod overhead becomes the pod's spec.overhead (a pod that
// brings its own overhead must agree with it, and may not bring one without such a class); the
// class's scheduling constraints join the pod's node selector (a conflicting value is refused)
// and tolerations. Refusals are kube's 403s about the pod.
import { parseQuantity } from '../pod/quantity.ts';
import { forbiddenResource } from './errors.ts';
import { resourceKey, resourceTypes } from './registry.ts';
import type { KubeObject, ObjectStore } from './store.ts';

const runtimeClassKey = resourceKey(resourceTypes.find((t) => t.plural === 'runtimeclasses' && t.group === 'node.k8s.io')!);

const isMap = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Admits (and mutates) a pod being created, or throws kube's 403. */
export function admitRuntimeClass(pod: KubeObject, store: ObjectStore): void {
  const spec = pod.spec;
  const deny = (why: string) => forbiddenResource('pods', '', String(pod.metadata.name || pod.metadata.generateName || ''), `pod rejected: ${why}`);
  const className = spec.runtimeClassName;
  let runtimeClass: KubeObject | undefined;
  if (className !== undefined && className !== null) {
    runtimeClass = store.get(runtimeClassKey, '', String(className));
    if (!runtimeClass) throw deny(`RuntimeClass ${JSON.stringify(String(className))} not found`);
  }

  // Mutating half: overhead, then scheduling.
  const fixed = isMap(runtimeClass?.overhead) ? runtimeClass!.overhead.podFixed : undefined;
  const classOverhead = runtimeClass?.overhead ? (isMap(fixed) ? fixed : null) : undefined;
  if (classOverhead !== undefined) {
    if (spec.overhead != null && !sameResources(classOverhead, spec.overhead)) throw deny("Pod's Overhead doesn't match RuntimeClass's defined Overhead");
    if (classOverhead === null) delete spec.overhead;
    else spec.overhead = structuredClone(classOverhead);
  }
  const scheduling = isMap(runtimeClass?.scheduling) ? runtimeClass!.scheduling : undefined;
  if (scheduling) {
    const classSelector: Record<string, string> = isMap(scheduling.nodeSelector) ? scheduling.nodeSelector : {};
    if (!isMap(spec.nodeSelector)) {
      if (isMap(scheduling.nodeSelector)) spec.nodeSelector = { ...classSelector };
    } else {
      for (const [key, value] of Object.entries(classSelector)) {
        const podValue = spec.nodeSelector[key];
        if (podValue !== undefined && podValue !== value) {
          throw forbiddenResource('pods', '', String(pod.metadata.name || pod.metadata.generateName || ''),
            `conflict: runtimeClass.scheduling.nodeSelector[${key}] = ${value}; pod.spec.nodeSelector[${key}] = ${podValue}`);
        }
        spec.nodeSelector[key] = value;
      }
    }
    const merged = mergeTolerations(Array.isArray(spec.tolerations) ? spec.tolerations : [], Array.isArray(scheduling.tolerations) ? scheduling.tolerations : []);
    if (merged.length) spec.tolerations = merged;
    else delete spec.tolerations;
  }

  // Validating half: an overhead only ever comes from a class that defines one.
  if (classOverhead === undefined && spec.overhead != null) throw deny('Pod Overhead set without corresponding RuntimeClass defined Overhead');
}

/** Resource lists as Go's semantic equality sees them: the same names, quantities equal in value. */
function sameResources(a: Record<string, unknown> | null, b: unknown): boolean {
  const left = a ?? {};
  const right = isMap(b) ? b : {};
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((k) => k in right && quantityEquals(left[k], right[k]));
}

function quantityEquals(x: unknown, y: unknown): boolean {
  try {
    return parseQuantity(String(x)) === parseQuantity(String(y));
  } catch {
    return String(x) === String(y);
  }
}

interface Toleration { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number }

/** The pod's and the class's tolerations, without any that another one already covers. */
export function mergeTolerations(first: Toleration[], second: Toleration[]): Toleration[] {
  const all = [...first, ...second];
  const merged: Toleration[] = [];
  all.forEach((t, i) => {
    if (merged.some((kept) => covers(kept, t))) return;
    // Of two equal ones the first stays; one that a later one strictly covers goes.
    if (all.slice(i + 1).some((later) => !sameToleration(t, later) && covers(later, t))) return;
    merged.push(t);
  });
  return merged;
}

const norm = (t: Toleration) => ({
  key: t.key ?? '', operator: t.operator ?? '', value: t.value ?? '', effect: t.effect ?? '',
  tolerationSeconds: typeof t.tolerationSeconds === 'number' ? t.tolerationSeconds : undefined,
});

function sameToleration(a: Toleration, b: Toleration): boolean {
  const [x, y] = [norm(a), norm(b)];
  return x.key === y.key && x.operator === y.operator && x.value === y.value && x.effect === y.effect && x.tolerationSeconds === y.tolerationSeconds;
}

/** Whether `wide` tolerates every taint `narrow` does. */
function covers(wide: Toleration, narrow: Toleration): boolean {
  if (sameToleration(wide, narrow)) return true;
  const [w, n] = [norm(wide), norm(narrow)];
  // An empty key with Exists matches every key.
  if (n.key !== w.key && (w.key !== '' || w.operator !== 'Exists')) return false;
  // An empty effect matches every effect.
  if (n.effect !== w.effect && w.effect !== '') return false;
  if (w.effect === 'NoExecute' && w.tolerationSeconds !== undefined) {
    if (n.tolerationSeconds === undefined || n.tolerationSeconds > w.tolerationSeconds) return false;
  }
  if (w.operator === 'Equal' || w.operator === '') return n.operator === 'Equal' && n.value === w.value;
  return w.operator === 'Exists';
}
