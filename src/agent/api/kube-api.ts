// The agent's narrow view of the API server: only the calls a kubelet makes. Everything else
// in src/agent/ depends on this interface, so standalone mode and tests can go without one.
// (Types come from @kubernetes/client-node; its runtime does not load on Node 20, see kubeconfig.ts.)
import type {
  CoreV1Event, V1ConfigMap, V1Lease, V1Node, V1Pod, V1PodList, V1RuntimeClass, V1Secret,
} from '@kubernetes/client-node';
import { ApiError, createHttpClient } from './http-client.ts';
import type { ApiConnection } from './kubeconfig.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface KubeApi {
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
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  getRuntimeClassHandler(name: string): Promise<string | undefined>;
  createEvent(event: CoreV1Event): Promise<CoreV1Event>;
  patchEvent(namespace: string, name: string, patch: object): Promise<CoreV1Event>;
}

/** HTTP status of a failed API call, if it was one. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof ApiError ? err.code : undefined;
}

async function orUndefinedOn404<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

const mergePatch = 'application/merge-patch+json';
const strategicMergePatch = 'application/strategic-merge-patch+json';
const q = encodeURIComponent;

export function createKubeApi(conn: ApiConnection): KubeApi {
  const http = createHttpClient(conn);
  const pod = (ns: string, name: string) => `/api/v1/namespaces/${q(ns)}/pods/${q(name)}`;
  return {
    getNode: (name) => orUndefinedOn404(http.call('GET', `/api/v1/nodes/${q(name)}`)),
    createNode: (body) => http.call('POST', '/api/v1/nodes', body),
    patchNodeStatus: (name, status) => http.call('PATCH', `/api/v1/nodes/${q(name)}/status`, { status }, strategicMergePatch),
    getLease: (ns, name) => orUndefinedOn404(http.call('GET', `/apis/coordination.k8s.io/v1/namespaces/${q(ns)}/leases/${q(name)}`)),
    createLease: (body) => http.call('POST', `/apis/coordination.k8s.io/v1/namespaces/${q(body.metadata!.namespace!)}/leases`, body),
    replaceLease: (body) => http.call('PUT', `/apis/coordination.k8s.io/v1/namespaces/${q(body.metadata!.namespace!)}/leases/${q(body.metadata!.name!)}`, body),
    listPods: (fieldSelector) => http.call('GET', `/api/v1/pods?fieldSelector=${q(fieldSelector)}`),
    watchPods(fieldSelector, resourceVersion, onEvent, done) {
      const query = `watch=true&allowWatchBookmarks=true&fieldSelector=${q(fieldSelector)}${resourceVersion ? `&resourceVersion=${q(resourceVersion)}` : ''}`;
      return http.stream(`/api/v1/pods?${query}`, (e) => onEvent(e.type, e.object), done);
    },
    getPod: (ns, name) => orUndefinedOn404(http.call('GET', pod(ns, name))),
    createPod: (body) => http.call('POST', `/api/v1/namespaces/${q(body.metadata!.namespace ?? 'default')}/pods`, body),
    async deletePod(ns, name, uid, gracePeriodSeconds) {
      try {
        await http.call('DELETE', `${pod(ns, name)}?gracePeriodSeconds=${gracePeriodSeconds}`, {
          apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds, ...(uid ? { preconditions: { uid } } : {}),
        });
      } catch (err) {
        // 404: already gone; 409: a newer pod of the same name exists, which is not ours to delete.
        if (statusOf(err) === 404 || statusOf(err) === 409) return;
        throw err;
      }
    },
    patchPodStatus: (ns, name, patch) => http.call('PATCH', `${pod(ns, name)}/status`, patch, mergePatch),
    getSecret: (ns, name) => orUndefinedOn404(http.call('GET', `/api/v1/namespaces/${q(ns)}/secrets/${q(name)}`)),
    getConfigMap: (ns, name) => orUndefinedOn404(http.call('GET', `/api/v1/namespaces/${q(ns)}/configmaps/${q(name)}`)),
    async getRuntimeClassHandler(name) {
      const rc = await orUndefinedOn404(http.call<V1RuntimeClass>('GET', `/apis/node.k8s.io/v1/runtimeclasses/${q(name)}`));
      return rc?.handler;
    },
    createEvent: (body) => http.call('POST', `/api/v1/namespaces/${q(body.metadata!.namespace ?? 'default')}/events`, body),
    patchEvent: (ns, name, patch) => http.call('PATCH', `/api/v1/namespaces/${q(ns)}/events/${q(name)}`, patch, mergePatch),
  };
}
