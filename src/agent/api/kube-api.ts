// The agent's narrow view of the API server: only the calls a kubelet makes. Everything else
// in src/agent/ depends on this interface, so standalone mode and tests can go without one.
// Implemented on @kubernetes/client-node, so every kubeconfig auth a cluster uses works.
import {
  ApiException, AuthenticationV1Api, AuthorizationV1Api, CoordinationV1Api, CoreV1Api, NodeV1Api, PatchStrategy, Watch, setHeaderOptions,
  type CoreV1Event, type KubeConfig, type V1ConfigMap, type V1Lease, type V1Node, type V1PersistentVolume, type V1PersistentVolumeClaim,
  type V1Pod, type V1PodList, type V1Secret, type V1ServiceList,
} from '@kubernetes/client-node';
import { watchNamedObject } from './named-object-watch.ts';
import { shareConnections } from './shared-connections.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** A TokenReview's answer (authentication.k8s.io/v1 status). */
export interface TokenReviewResult {
  authenticated: boolean;
  user?: { username: string; uid?: string; groups?: string[] };
  error?: string;
}

/** What a SubjectAccessReview asks (authorization.k8s.io/v1 spec, resource attributes flattened). */
export interface AccessReviewRequest {
  user: string;
  uid?: string;
  groups: string[];
  verb: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
  /** API group ("" for core). */
  group?: string;
  version?: string;
  /** Set instead of the resource fields for a non-resource request. */
  path?: string;
}

/** A SubjectAccessReview's answer (authorization.k8s.io/v1 status). */
export interface AccessReviewResult {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export interface ServiceAccountTokenRequest {
  audiences?: string[];
  expirationSeconds: number;
  podName: string;
  podUid: string;
}

export interface KubeApiOptions {
  /** Delay before watchObject tries again after its watch failed (default 1 s). */
  rewatchDelayMs?: number;
  /** Told when a watchObject attempt fails; it is retried regardless. */
  onWatchError?(what: string, err: unknown): void;
}

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
  getPersistentVolumeClaim(namespace: string, name: string): Promise<V1PersistentVolumeClaim | undefined>;
  getPersistentVolume(name: string): Promise<V1PersistentVolume | undefined>;
  /** Every Service of every namespace (the kubelet's service informer lists them all, for the
   * containers' service variables). */
  listServices(): Promise<V1ServiceList>;
  /** Watches every Service from resourceVersion; as watchPods: `done` once when it ends, returns a stopper. */
  watchServices(resourceVersion: string, onEvent: (type: WatchEventType, obj: any) => void, done: (err?: unknown) => void): Promise<() => void>;
  /** TokenRequest (serviceaccounts/<name>/token) bound to the pod, as the kubelet asks for projected tokens. */
  requestServiceAccountToken(namespace: string, serviceAccount: string, request: ServiceAccountTokenRequest): Promise<{ token: string; expirationTimestamp: Date }>;
  /**
   * Watches one ConfigMap or Secret by name (list + watch with fieldSelector metadata.name=<name>,
   * what the Node authorizer allows a node for objects its pods use), again and again until
   * stopped; onChange on every change seen, and after a relist that finds it changed or gone.
   * Returns the stopper.
   */
  watchObject(kind: 'ConfigMap' | 'Secret', namespace: string, name: string, onChange: () => void): () => void;
  getRuntimeClassHandler(name: string): Promise<string | undefined>;
  createEvent(event: CoreV1Event): Promise<CoreV1Event>;
  patchEvent(namespace: string, name: string, patch: object): Promise<CoreV1Event>;
  /** TokenReview: who a bearer token belongs to (the node API's webhook authentication). */
  reviewToken(token: string, audiences?: string[]): Promise<TokenReviewResult>;
  /** SubjectAccessReview: may this user do this (the node API's webhook authorization)? */
  reviewAccess(request: AccessReviewRequest): Promise<AccessReviewResult>;
}

/**
 * HTTP status of a failed API call, if it was one: client-node's ApiException carries it as
 * `code`; a watch refused before streaming (non-200) throws an Error with `statusCode`.
 */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

async function orUndefinedOn404<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

// client-node sends JSON Patch by default; the agent's patches are merge patches.
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** client-node's Watch aborts after 30 s without bytes; that is a quiet stream, not a failure. */
function isInactivityTimeout(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'TimeoutError';
}

export function createKubeApi(kubeConfig: KubeConfig, options: KubeApiOptions = {}): KubeApi {
  shareConnections(kubeConfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  const nodeApi = kubeConfig.makeApiClient(NodeV1Api);
  const authentication = kubeConfig.makeApiClient(AuthenticationV1Api);
  const authorization = kubeConfig.makeApiClient(AuthorizationV1Api);
  const watcher = new Watch(kubeConfig);
  return {
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
        { fieldSelector, allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
        (type: string, obj: unknown) => onEvent(type as WatchEventType, obj),
        (err: unknown) => done(err && !isInactivityTimeout(err) ? err : undefined),
      );
      return () => controller.abort();
    },
    getPod: (namespace, name) => orUndefinedOn404(core.readNamespacedPod({ namespace, name })),
    createPod: (body) => core.createNamespacedPod({ namespace: body.metadata!.namespace ?? 'default', body }),
    async deletePod(namespace, name, uid, gracePeriodSeconds) {
      try {
        await core.deleteNamespacedPod({
          namespace, name, gracePeriodSeconds,
          body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds, ...(uid ? { preconditions: { uid } } : {}) },
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
    getPersistentVolumeClaim: (namespace, name) => orUndefinedOn404(core.readNamespacedPersistentVolumeClaim({ namespace, name })),
    getPersistentVolume: (name) => orUndefinedOn404(core.readPersistentVolume({ name })),
    listServices: () => core.listServiceForAllNamespaces(),
    async watchServices(resourceVersion, onEvent, done) {
      const controller = await watcher.watch(
        '/api/v1/services',
        { allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
        (type: string, obj: unknown) => onEvent(type as WatchEventType, obj),
        (err: unknown) => done(err && !isInactivityTimeout(err) ? err : undefined),
      );
      return () => controller.abort();
    },
    async requestServiceAccountToken(namespace, serviceAccount, request) {
      const answer = await core.createNamespacedServiceAccountToken({
        namespace,
        name: serviceAccount,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: {
            audiences: request.audiences ?? [],
            expirationSeconds: request.expirationSeconds,
            boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: request.podName, uid: request.podUid },
          },
        },
      });
      const token = answer.status?.token;
      const expires = answer.status?.expirationTimestamp;
      if (!token || !expires) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} (pod ${request.podName}) answered without a token`);
      return { token, expirationTimestamp: new Date(expires) };
    },
    watchObject(kind, namespace, name, onChange) {
      const list = async (fieldSelector: string) => {
        const l = kind === 'ConfigMap'
          ? await core.listNamespacedConfigMap({ namespace, fieldSelector })
          : await core.listNamespacedSecret({ namespace, fieldSelector });
        return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? '' };
      };
      return watchNamedObject({
        watcher,
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/${kind === 'ConfigMap' ? 'configmaps' : 'secrets'}`,
        name,
        list,
        onChange,
        retryDelayMs: options.rewatchDelayMs ?? 1000,
        onError: (err) => options.onWatchError?.(`${kind} ${namespace}/${name}`, err),
      });
    },
    async getRuntimeClassHandler(name) {
      return (await orUndefinedOn404(nodeApi.readRuntimeClass({ name })))?.handler;
    },
    createEvent: (body) => core.createNamespacedEvent({ namespace: body.metadata!.namespace ?? 'default', body }),
    patchEvent: (namespace, name, patch) => core.patchNamespacedEvent({ namespace, name, body: patch }, mergePatch),
    async reviewToken(token, audiences) {
      const review = await authentication.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences?.length ? { audiences } : {}) } },
      });
      const status = review.status ?? {};
      const user = status.user?.username ? { username: status.user.username, uid: status.user.uid, groups: status.user.groups } : undefined;
      return { authenticated: status.authenticated === true && user !== undefined, user, error: status.error };
    },
    async reviewAccess(request) {
      const { user, uid, groups, path, ...resource } = request;
      const review = await authorization.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user, uid, groups,
            ...(path !== undefined ? { nonResourceAttributes: { path, verb: resource.verb } } : { resourceAttributes: resource }),
          },
        },
      });
      const status = review.status;
      return { allowed: status?.allowed === true, denied: status?.denied, reason: status?.reason, evaluationError: status?.evaluationError };
    },
  };
}
