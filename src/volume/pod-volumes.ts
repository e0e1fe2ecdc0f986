// The volume room's narrow interface: what the agent and the runtime manager may know about
// volumes. The agent asks for a pod's volumes to be made ready before the runtime manager
// runs (kubelet: WaitForAttachAndMount before SyncPod), hands the result to the runtime
// manager, which asks for each container's mounts; when the pod is removed the agent asks
// for teardown. Nothing here speaks CRI: the runtime manager maps VolumeMount to its Mount.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Observable } from 'rxjs';

/** One bind mount into one container, in the runtime-neutral form the runtime manager maps to CRI. */
export interface VolumeMount {
  containerPath: string;
  hostPath: string;
  readOnly: boolean;
  /** Kubelet's MountPropagationMode; CRI maps None→PROPAGATION_PRIVATE, HostToContainer→HOST_TO_CONTAINER, Bidirectional→BIDIRECTIONAL. */
  propagation: 'None' | 'HostToContainer' | 'Bidirectional';
}

/** A pod's volumes, made ready: what container mounts are built from. */
export interface ReadyVolumes {
  uid: string;
  /** Volume name → its directory (or file, for a hostPath file) on the host. */
  paths: ReadonlyMap<string, string>;
  /** Supplemental group the containers get (pod fsGroup), when the pod sets one. */
  supplementalGroups: number[];
  /**
   * Volumes that were ready before and could not be refreshed this time (a ConfigMap deleted, the
   * API server away): they keep their previous content, as on a kubelet node, and the pod goes on;
   * the agent reports each as a FailedMount event. Absent when every refresh succeeded.
   */
  refreshErrors?: VolumeSetupError[];
}

/** Why a pod's volumes are not ready (kubelet event reason FailedMount; containers wait in ContainerCreating). */
export class VolumeSetupError extends Error {
  readonly reason = 'FailedMount';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A container's mount that cannot be made (bad subPath, unknown volume): kubelet reason CreateContainerConfigError. */
export class ContainerMountError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

export interface PodVolumeManager {
  /**
   * Makes every volume of the pod ready under <root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>,
   * or refreshes content that changed (ConfigMap/Secret data, downward API fields, tokens near expiry),
   * through the atomic writer. Idempotent; safe to call on every sync. Throws VolumeSetupError for
   * an unsupported type, a missing non-optional object, a failed hostPath check, ...; leaves nothing
   * half-made behind.
   */
  setUp(pod: V1Pod): Promise<ReadyVolumes>;
  /**
   * The mounts of one container (volumeMounts, with subPath / subPathExpr expanded against the
   * container's resolved env). Throws ContainerMountError for `..` or absolute subPath results.
   */
  mountsFor(pod: V1Pod, container: V1Container, volumes: ReadyVolumes, env: ReadonlyArray<{ key: string; value: string }>): Promise<VolumeMount[]>;
  /** Unmounts (tmpfs) and removes everything under <root-dir>/pods/<uid>/volumes. Idempotent. */
  tearDown(uid: string): Promise<void>;
  /** At start: tear down the volume directories of pods no source knows (deleted while the agent was down). */
  removeOrphans(knownUids: ReadonlySet<string>): Promise<string[]>;
  /** UIDs of pods whose volume content should be refreshed now: a referenced ConfigMap/Secret changed, a token reached 80 % of its life. */
  readonly refreshes: Observable<string>;
  stop(): Promise<void>;
}

/** What the volume room needs from the API server (the agent's KubeApi provides it). */
export interface VolumeSources {
  getConfigMap(namespace: string, name: string): Promise<import('@kubernetes/client-node').V1ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<import('@kubernetes/client-node').V1Secret | undefined>;
  getPersistentVolumeClaim(namespace: string, name: string): Promise<import('@kubernetes/client-node').V1PersistentVolumeClaim | undefined>;
  getPersistentVolume(name: string): Promise<import('@kubernetes/client-node').V1PersistentVolume | undefined>;
  /** TokenRequest on serviceaccounts/<name>/token, bound to the pod. */
  requestServiceAccountToken(namespace: string, serviceAccount: string, request: {
    audiences?: string[]; expirationSeconds: number; podName: string; podUid: string;
  }): Promise<{ token: string; expirationTimestamp: Date }>;
  /**
   * Watches one named ConfigMap or Secret (list+watch with fieldSelector metadata.name=<name>, which
   * the Node authorizer allows for objects its pods use); onChange on every ADDED/MODIFIED/DELETED.
   * Returns a stopper.
   */
  watchObject(kind: 'ConfigMap' | 'Secret', namespace: string, name: string, onChange: () => void): () => void;
}
