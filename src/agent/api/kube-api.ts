// The agent's narrow view of the API server: only the calls a kubelet makes, over the
// official client. Everything else in src/agent/ depends on this interface, never on
// client-node directly, so standalone mode and tests can go without an API server.
import {
  CoordinationV1Api, CoreV1Api, KubeConfig, NodeV1Api, PatchStrategy, Watch, setHeaderOptions,
  type CoreV1Event, type V1Lease, type V1Node, type V1Pod, type V1PodList,
} from '@kubernetes/client-node';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface KubeApi {
  readonly kubeConfig: KubeConfig;
  getNode(name: string): Promise<V1Node | undefined>;
  createNode(node: V1Node): Promise<V1Node>;
  patchNodeStatus(name: string, status: V1Node['status']): Promise<V1Node>;
  getLease(namespace: string, name: string): Promise<V1Lease | undefined>;
  createLease(lease: V1Lease): Promise<V1Lease>;
  replaceLease(lease: V1Lease): Promise<V1Lease>;
  listPods(fieldSelector: string): Promise<V1PodList>;
  /** Starts a watch; `done` is called once when it ends (error or server close). Returns a stopper. */
  watchPods(fieldSelector: string, resourceVersion: string, onEvent: (type: WatchEventType, obj: any) => void, done: (err?: unknown) => void): Promise<() => void>;
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  createPod(pod: V1Pod): Promise<V1Pod>;
  /** Deletes with gracePeriodSeconds and a uid precondition; absent pods count as deleted. */
  deletePod(namespace: string, name: string, uid: string | undefined, gracePeriodSeconds: number): Promise<void>;
  patchPodStatus(namespace: string, name: string, patch: object): Promise<V1Pod>;
  getSecret(namespace: string, name: string): Promise<import('@kubernetes/client-node').V1Secret | undefined>;
  getConfigMap(namespace: string, name: string): Promise<import('@kubernetes/client-node').V1ConfigMap | undefined>;
  getRuntimeClassHandler(name: string): Promise<string | undefined>;
  createEvent(event: CoreV1Event): Promise<CoreV1Event>;
  patchEvent(namespace: string, name: string, patch: object): Promise<CoreV1Event>;
}

/** HTTP status of a failed API call, if it was one. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

async function orUndefinedOn404<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

export function createKubeApi(kubeConfig: KubeConfig): KubeApi {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  const nodeApi = kubeConfig.makeApiClient(NodeV1Api);
  const watcher = new Watch(kubeConfig);
  return {
    kubeConfig,
    getNode: (name) => orUndefinedOn404(core.readNode({ name })),
    createNode: (body) => core.createNode({ body }),
    patchNodeStatus: (name, status) => core.patchNodeStatus({ name, body: { status } }, strategicMergePatch),
    getLease: (namespace, name) => orUndefinedOn404(coordination.readNamespacedLease({ namespace, name })),
    createLease: (body) => coordination.createNamespacedLease({ namespace: body.metadata!.namespace!, body }),
    replaceLease: (body) => coordination.replaceNamespacedLease({ namespace: body.metadata!.namespace!, name: body.metadata!.name!, body }),
    listPods: (fieldSelector) => core.listPodForAllNamespaces({ fieldSelector }),
    async watchPods(fieldSelector, resourceVersion, onEvent, done) {
      const controller = await watcher.watch(
        '/api/v1/pods',
        { fieldSelector, resourceVersion, allowWatchBookmarks: true },
        (type, obj) => onEvent(type as WatchEventType, obj),
        done,
      );
      return () => controller.abort();
    },
    getPod: (namespace, name) => orUndefinedOn404(core.readNamespacedPod({ namespace, name })),
    createPod: (body) => core.createNamespacedPod({ namespace: body.metadata!.namespace ?? 'default', body }),
    async deletePod(namespace, name, uid, gracePeriodSeconds) {
      try {
        await core.deleteNamespacedPod({
          namespace, name, gracePeriodSeconds,
          body: { gracePeriodSeconds, ...(uid ? { preconditions: { uid } } : {}) },
        });
      } catch (err) {
        // 404: already gone; 409: a newer pod of the same name exists, which is not ours to delete.
        if (statusOf(err) === 404 || statusOf(err) === 409) return;
        throw err;
      }
    },
    patchPodStatus: (namespace, name, patch) => core.patchNamespacedPodStatus({ namespace, name, body: patch }, mergePatch),
    getSecret: (namespace, name) => orUndefinedOn404(core.readNamespacedSecret({ namespace, name })),
    getConfigMap: (namespace, name) => orUndefinedOn404(core.readNamespacedConfigMap({ namespace, name })),
    async getRuntimeClassHandler(name) {
      const rc = await orUndefinedOn404(nodeApi.readRuntimeClass({ name }));
      return rc?.handler;
    },
    createEvent: (body) => core.createNamespacedEvent({ namespace: body.metadata!.namespace ?? 'default', body }),
    patchEvent: (namespace, name, patch) => core.patchNamespacedEvent({ namespace, name, body: patch }, mergePatch),
  };
}
