// A persistentVolumeClaim volume: the claim must be Bound, and its PersistentVolume must be a
// hostPath or local one (what local-path provisioners make in dev clusters); its path is then
// used as is, as the kubelet uses it. Every other state is a FailedMount naming the claim.
import type { V1PersistentVolumeClaimVolumeSource } from '@kubernetes/client-node';
import type { VolumeSources } from './pod-volumes.ts';
import { VolumeContentError } from './setup-errors.ts';

export interface ClaimedPath {
  path: string;
  /** hostPath type to check ("" checks nothing); local volumes must be an existing path. */
  type: string;
}

export async function claimedHostPath(sources: VolumeSources | undefined, namespace: string, src: V1PersistentVolumeClaimVolumeSource): Promise<ClaimedPath> {
  const claim = `${namespace}/${src.claimName}`;
  const fail = (why: string) => new VolumeContentError(`error processing PVC ${claim}: ${why}`);
  if (!sources) throw fail('persistentVolumeClaim volumes need an API server, and this agent runs standalone');
  const pvc = await sources.getPersistentVolumeClaim(namespace, src.claimName);
  if (!pvc) throw fail(`failed to fetch PVC from API server: persistentvolumeclaims "${src.claimName}" not found`);
  if (pvc.metadata?.deletionTimestamp) throw fail('PVC is being deleted');
  const pvName = pvc.spec?.volumeName;
  if (pvc.status?.phase !== 'Bound' || !pvName) throw fail('PVC is not bound');
  const pv = await sources.getPersistentVolume(pvName);
  if (!pv) throw fail(`failed to fetch PV "${pvName}" from API server: persistentvolumes "${pvName}" not found`);
  const ref = pv.spec?.claimRef;
  if (ref && (ref.name !== src.claimName || ref.namespace !== namespace || (ref.uid && pvc.metadata?.uid && ref.uid !== pvc.metadata.uid))) {
    throw fail(`PV "${pvName}" is bound to another claim (${ref.namespace}/${ref.name})`);
  }
  if (pv.spec?.hostPath) return { path: pv.spec.hostPath.path, type: pv.spec.hostPath.type ?? '' };
  if (pv.spec?.local) return { path: pv.spec.local.path, type: 'local' };
  const kind = Object.keys(pv.spec ?? {}).find(k => PV_SOURCES.has(k)) ?? 'unknown';
  throw fail(`PV "${pvName}" is a ${kind} volume; mini-kubelet supports only hostPath and local PersistentVolumes`);
}

// PersistentVolumeSpec fields that name a volume source (the rest are access modes, capacity, ...).
const PV_SOURCES = new Set(['awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'csi', 'fc', 'flexVolume',
  'flocker', 'gcePersistentDisk', 'glusterfs', 'iscsi', 'nfs', 'photonPersistentDisk', 'portworxVolume', 'quobyte', 'rbd',
  'scaleIO', 'storageos', 'vsphereVolume']);
