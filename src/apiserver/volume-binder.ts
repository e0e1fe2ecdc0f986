// A stand-in for kube-controller-manager's PersistentVolume controller, static provisioning
// only: a claim binds to the volume it names (spec.volumeName), or else to the smallest
// Available volume of its storage class whose access modes, volume mode, selector and
// capacity satisfy it. Binding writes both sides as kube does (claimRef, volumeName, the
// pv.kubernetes.io annotations, phases, the claim's capacity and access modes). A volume
// whose claim is gone is Released (Retain) or Failed (Delete/Recycle: nothing here can
// delete or scrub storage); a bound claim whose volume is gone is Lost.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { coalescedPass } from './coalesced-pass.ts';
import { ApiError } from './errors.ts';
import { resourceKey, resourceTypes, type ResourceType } from './registry.ts';
import type { ResourceService } from './resources.ts';
import { matchesLabels, type LabelSelector } from './selectors.ts';
import type { KubeObject, StoreEvent } from './store.ts';
import { storageBytes, storageClassOf } from './storage-objects.ts';

export const annBindCompleted = 'pv.kubernetes.io/bind-completed';
export const annBoundByController = 'pv.kubernetes.io/bound-by-controller';
const controllerName = 'persistentvolume-controller';

const typeOf = (plural: string): ResourceType => resourceTypes.find((t) => t.plural === plural && !t.group)!;
const pvType = typeOf('persistentvolumes');
const pvcType = typeOf('persistentvolumeclaims');
const eventType = typeOf('events');
const pvKey = resourceKey(pvType);
const pvcKey = resourceKey(pvcType);

const claimKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** Whether the volume's claimRef names this claim (by name, and by uid once it has one). */
function volumeNamesClaim(pv: KubeObject, claim: KubeObject): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref || ref.name !== claim.metadata.name || (ref.namespace ?? '') !== claim.metadata.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata.uid;
}

function selectorOf(claim: KubeObject): LabelSelector {
  const s = claim.spec?.selector ?? {};
  const ops: Record<string, 'in' | 'notin' | 'exists' | '!exists'> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' };
  return [
    ...Object.entries(s.matchLabels ?? {}).map(([key, v]) => ({ key, op: 'in' as const, values: [String(v)] })),
    ...(s.matchExpressions ?? []).map((e: any) => ({ key: String(e.key), op: ops[e.operator] ?? 'in', values: (e.values ?? []).map(String) })),
  ] as LabelSelector;
}

/** Why the volume cannot serve the claim, in kube's words; undefined when it can. */
export function volumeMismatch(pv: KubeObject, claim: KubeObject): string | undefined {
  const requested = storageBytes(claim.spec?.resources?.requests?.storage ?? '0', 'spec.resources[storage]');
  if (storageBytes(pv.spec?.capacity?.storage ?? '0', 'spec.capacity[storage]') < requested) return 'requested PV is too small';
  if (storageClassOf(pv) !== storageClassOf(claim)) return 'storageClassName does not match';
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (claim.spec?.volumeMode ?? 'Filesystem')) return 'incompatible volumeMode';
  const offered: string[] = pv.spec?.accessModes ?? [];
  if (!(claim.spec?.accessModes ?? []).every((m: string) => offered.includes(m))) return 'incompatible accessMode';
  return undefined;
}

export class PersistentVolumeBinder {
  private readonly unsubscribe: () => void;
  private readonly schedulePass: () => void;
  /** The last event given per claim uid, so a claim that stays Pending is told once, not on every pass. */
  private readonly lastEvent = new Map<string, string>();

  constructor(private readonly resources: ResourceService, private readonly log: Logger) {
    this.schedulePass = coalescedPass(() => this.syncAll(), log, 'persistent volume binding');
    this.unsubscribe = resources.store.subscribe((e) => this.onChange(e));
    this.schedulePass();
  }

  stop(): void {
    this.unsubscribe();
  }

  private onChange(e: StoreEvent): void {
    if (e.resource === pvcKey && e.type === 'DELETED') this.lastEvent.delete(e.object.metadata.uid);
    if (e.resource === pvKey || e.resource === pvcKey) this.schedulePass();
  }

  private syncAll(): void {
    const store = this.resources.store;
    for (const claim of store.list(pvcKey)) {
      try {
        this.syncClaim(claim);
      } catch (err) {
        // Changed meanwhile (409) or gone (404): the write's own event brings another pass.
        if (!(err instanceof ApiError)) throw err;
      }
    }
    const claims = new Map(store.list(pvcKey).map((c) => [claimKey(c.metadata.namespace, c.metadata.name), c]));
    for (const pv of store.list(pvKey)) {
      try {
        this.syncVolume(pv, claims);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
      }
    }
  }

  private syncClaim(claim: KubeObject): void {
    if (claim.metadata.deletionTimestamp) return;
    const wanted = claim.spec?.volumeName;
    if (claim.status?.phase === 'Bound' || claim.status?.phase === 'Lost') {
      const pv = wanted ? this.resources.store.get(pvKey, '', wanted) : undefined;
      if (!pv && claim.status.phase === 'Bound') {
        this.setClaimPhase(claim, 'Lost');
        this.event(claim, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      }
      return;
    }
    if (wanted) {
      const pv = this.resources.store.get(pvKey, '', wanted);
      // The named volume may come later; a volume taken by another claim never will.
      if (!pv || (pv.spec?.claimRef && !volumeNamesClaim(pv, claim))) return;
      const mismatch = volumeMismatch(pv, claim);
      if (mismatch) return this.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${wanted}": ${mismatch}`);
      return this.bind(pv, claim);
    }
    const pv = this.findMatchingVolume(claim);
    if (pv) return this.bind(pv, claim);
    const storageClass = storageClassOf(claim);
    // A claim with a class would be provisioned dynamically; no StorageClasses are served here.
    if (storageClass) this.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${storageClass}" not found`);
    else this.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
  }

  /** A volume pre-bound to the claim first, else the smallest unclaimed one that satisfies it. */
  private findMatchingVolume(claim: KubeObject): KubeObject | undefined {
    const selector = selectorOf(claim);
    const candidates = this.resources.store.list(pvKey).filter((pv) => !pv.metadata.deletionTimestamp
      && !['Released', 'Failed'].includes(pv.status?.phase)
      && (!pv.spec?.claimRef || volumeNamesClaim(pv, claim)));
    const preBound = candidates.find((pv) => pv.spec?.claimRef && volumeMismatch(pv, claim) === undefined);
    if (preBound) return preBound;
    const size = (pv: KubeObject) => storageBytes(pv.spec?.capacity?.storage ?? '0', 'spec.capacity[storage]');
    return candidates
      .filter((pv) => !pv.spec?.claimRef && matchesLabels(selector, pv.metadata.labels) && volumeMismatch(pv, claim) === undefined)
      .sort((a, b) => size(a) - size(b) || (a.metadata.name < b.metadata.name ? -1 : 1))[0];
  }

  private bind(pv: KubeObject, claim: KubeObject): void {
    const { namespace, name, uid } = claim.metadata;
    // The volume first: a claim that points at a volume which does not point back is not bound.
    if (!pv.spec.claimRef || pv.spec.claimRef.uid !== uid) {
      const byController = !volumeNamesClaim(pv, claim);
      const annotations = { ...(pv.metadata.annotations ?? {}), ...(byController ? { [annBoundByController]: 'yes' } : {}) };
      pv = this.resources.update(pvType, '', pv.metadata.name, {
        ...pv,
        metadata: { ...pv.metadata, annotations },
        spec: { ...pv.spec, claimRef: { kind: 'PersistentVolumeClaim', namespace, name, uid, apiVersion: 'v1', resourceVersion: claim.metadata.resourceVersion } },
      });
    }
    if (pv.status?.phase !== 'Bound') this.resources.update(pvType, '', pv.metadata.name, { ...pv, status: { ...pv.status, phase: 'Bound' } }, 'status');

    const annotations = { ...(claim.metadata.annotations ?? {}), [annBindCompleted]: 'yes' };
    if (claim.spec?.volumeName !== pv.metadata.name) annotations[annBoundByController] = 'yes';
    claim = this.resources.update(pvcType, namespace, name, {
      ...claim, metadata: { ...claim.metadata, annotations }, spec: { ...claim.spec, volumeName: pv.metadata.name },
    });
    this.resources.update(pvcType, namespace, name, {
      ...claim, status: { ...claim.status, phase: 'Bound', accessModes: pv.spec.accessModes, capacity: pv.spec.capacity },
    }, 'status');
    this.lastEvent.delete(uid);
    this.log.info({ claim: `${namespace}/${name}`, volume: pv.metadata.name }, 'bound claim to volume');
  }

  private syncVolume(pv: KubeObject, claims: Map<string, KubeObject>): void {
    if (pv.metadata.deletionTimestamp) return;
    const ref = pv.spec?.claimRef;
    if (!ref) return this.setVolumePhase(pv, 'Available');
    const claim = claims.get(claimKey(ref.namespace ?? '', ref.name ?? ''));
    // Pre-bound by name only: Available until that claim comes and binds.
    if (!ref.uid) return this.setVolumePhase(pv, 'Available');
    if (!claim || claim.metadata.uid !== ref.uid) return this.release(pv);
    if (claim.spec?.volumeName === pv.metadata.name) return this.setVolumePhase(pv, 'Bound');
    if (claim.spec?.volumeName) {
      // The claim went to another volume: give this one back if the controller took it, else keep the data safe.
      if (pv.metadata.annotations?.[annBoundByController] !== 'yes') return this.release(pv);
      const { claimRef: _, ...spec } = pv.spec;
      const annotations = { ...pv.metadata.annotations };
      delete annotations[annBoundByController];
      this.resources.update(pvType, '', pv.metadata.name, { ...pv, metadata: { ...pv.metadata, annotations }, spec });
    }
  }

  /** Its claim is gone: Retain keeps the data for an admin (Released); nothing here can delete or recycle it. */
  private release(pv: KubeObject): void {
    if (['Released', 'Failed'].includes(pv.status?.phase)) return;
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return this.setVolumePhase(pv, 'Released');
    const message = policy === 'Delete'
      ? `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched`
      : `no volume plugin matched name: kubernetes.io/${policy.toLowerCase()}`;
    this.resources.update(pvType, '', pv.metadata.name, { ...pv, status: { ...pv.status, phase: 'Failed', message } }, 'status');
  }

  private setVolumePhase(pv: KubeObject, phase: string): void {
    if (pv.status?.phase === phase) return;
    const { message: _, reason: __, ...status } = pv.status ?? {};
    this.resources.update(pvType, '', pv.metadata.name, { ...pv, status: { ...status, phase } }, 'status');
  }

  private setClaimPhase(claim: KubeObject, phase: string): void {
    this.resources.update(pvcType, claim.metadata.namespace, claim.metadata.name, { ...claim, status: { ...claim.status, phase } }, 'status');
  }

  /** A core/v1 Event about the claim from the controller, once per distinct message. */
  private event(claim: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const { namespace, name, uid, resourceVersion } = claim.metadata;
    if (this.lastEvent.get(uid) === `${reason}: ${message}`) return;
    this.lastEvent.set(uid, `${reason}: ${message}`);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.resources.create(eventType, namespace, {
      metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: { kind: 'PersistentVolumeClaim', namespace, name, uid, apiVersion: 'v1', resourceVersion },
      reason, message, type, count: 1, firstTimestamp: now, lastTimestamp: now,
      source: { component: controllerName }, reportingComponent: controllerName, reportingInstance: '',
    });
  }
}
