// Where a pod's volumes live on the host, as the kubelet lays them out, so that someone who knows
// the kubelet finds them: <root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>.
import { join } from 'node:path';
import type { V1Volume } from '@kubernetes/client-node';

/** The volume types mini-kubelet makes, by the kubelet's plugin directory name. */
export type VolumePlugin = 'empty-dir' | 'host-path' | 'configmap' | 'secret' | 'downward-api' | 'projected' | 'persistent-volume-claim';

const PLUGIN_BY_FIELD: Record<string, VolumePlugin> = {
  emptyDir: 'empty-dir',
  hostPath: 'host-path',
  configMap: 'configmap',
  secret: 'secret',
  downwardAPI: 'downward-api',
  projected: 'projected',
  persistentVolumeClaim: 'persistent-volume-claim',
};

/** The plugin of a volume, or the API field of a source mini-kubelet does not support (csi, nfs, ...). */
export function volumePlugin(volume: V1Volume): { plugin: VolumePlugin } | { unsupported: string } {
  const fields = Object.entries(volume).filter(([k, v]) => k !== 'name' && v !== undefined && v !== null).map(([k]) => k);
  const unsupported = fields.find(f => !(f in PLUGIN_BY_FIELD));
  if (unsupported) return { unsupported };
  // The API server defaults a volume without a source to emptyDir.
  return { plugin: fields.length === 0 ? 'empty-dir' : PLUGIN_BY_FIELD[fields[0]!]! };
}

export function podDir(rootDir: string, uid: string): string {
  return join(rootDir, 'pods', uid);
}

export function podVolumesDir(rootDir: string, uid: string): string {
  return join(podDir(rootDir, uid), 'volumes');
}

/** The directory the agent makes for a volume (hostPath and PVC volumes use the host path itself instead). */
export function volumeDir(rootDir: string, uid: string, plugin: VolumePlugin, name: string): string {
  return join(podVolumesDir(rootDir, uid), `kubernetes.io~${plugin}`, name);
}
