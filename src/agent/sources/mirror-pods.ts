// Mirror pods: the API server's read-only copy of a static pod, so kubectl can see it.
// The kubelet creates one per static pod, owned by the Node, marked with the static pod's
// hash; when the file changes the old mirror is deleted and a new one created.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { statusOf, type KubeApi } from '../api/kube-api.ts';
import { configHashAnnotation, configMirrorAnnotation } from './pod-update.ts';
import { podFullName } from '../../pod/pod-ref.ts';

export function buildMirrorPod(staticPod: V1Pod, node: V1Node | undefined): V1Pod {
  const hash = staticPod.metadata?.annotations?.[configHashAnnotation] ?? '';
  const { uid: _uid, ...metadata } = staticPod.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...metadata,
      annotations: { ...metadata.annotations, [configMirrorAnnotation]: hash },
      ...(node?.metadata?.uid
        ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.metadata.name!, uid: node.metadata.uid, controller: true }] }
        : {}),
    },
    spec: staticPod.spec,
  };
}

/** Make the API server hold exactly the mirror of this static pod's current version. */
export async function ensureMirrorPod(api: KubeApi, staticPod: V1Pod, currentMirror: V1Pod | undefined, node: V1Node | undefined): Promise<void> {
  const hash = staticPod.metadata?.annotations?.[configHashAnnotation];
  if (currentMirror) {
    const upToDate = currentMirror.metadata?.annotations?.[configMirrorAnnotation] === hash;
    if (upToDate && !currentMirror.metadata?.deletionTimestamp) return;
    await api.deletePod(currentMirror.metadata!.namespace!, currentMirror.metadata!.name!, currentMirror.metadata?.uid, 0);
  }
  try {
    await api.createPod(buildMirrorPod(staticPod, node));
  } catch (err) {
    // 409: created by an earlier sync whose watch event has not arrived yet.
    if (statusOf(err) !== 409) throw err;
  }
}

/** Delete a mirror pod whose static pod is gone (uid precondition: never a same-named pod). */
export async function deleteMirrorPod(api: KubeApi, mirror: V1Pod): Promise<void> {
  const [namespace, name] = podFullName(mirror).split('/');
  await api.deletePod(namespace, name, mirror.metadata?.uid, 0);
}
