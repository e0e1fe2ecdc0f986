// The agent's narrow view of the API server: only the calls a kubelet makes. Everything else
// in src/agent/ depends on this interface, so standalone mode and tests can go without one.
// The credentials are client-node's KubeConfig, so every kubeconfig auth a cluster uses works;
// the calls go through a small REST layer (rest-client.ts) rather than client-node's generated
// API, whose classes and model serializer cost the agent tens of MB to load. Only types come
// from client-node here.
import type {
  CoreV1Event, KubeConfig, V1ConfigMapList, V1ConfigMap, V1Lease, V1Node, V1PersistentVolume, V1PersistentVolumeClaim,
  V1Pod, V1PodList, V1RuntimeClass, V1Secret, V1SecretList, V1ServiceList, AuthenticationV1TokenRequest, V1TokenReview, V1SubjectAccessReview,
} from '@kubernetes/client-node';
import { KubeApiError } from './kube-api-error.ts';
import { watchNamedObject } from './named-object-watch.ts';
import { createRestClient, mergePatchType, strategicMergePatchType, type RestRequest } from './rest-client.ts';
import { createWatcher } from './watch-stream.ts';

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
  /** Awaited before each rate-limited request is sent (see apiThrottle); default none. */
  throttle?: () => Promise<void>;
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
 * HTTP status of a failed API call, if it was one: a KubeApiError (or client-node's
 * ApiException, which tools and tests still use) carries it as `code`; a watch refused before
 * streaming (non-200) ends with an Error with `statusCode`.
 */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof KubeApiError) return err.code;
  const e = err as { code?: unknown; headers?: unknown; statusCode?: unknown } | undefined;
  if (typeof e?.code === 'number' && e.headers !== undefined) return e.code; // ApiException's shape
  return typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

async function orUndefinedOn404<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

const e = encodeURIComponent;
const core = '/api/v1';
const namespaced = (namespace: string, resource: string, name?: string) =>
  `${core}/namespaces/${e(namespace)}/${resource}${name === undefined ? '' : `/${e(name)}`}`;
const leases = (namespace: string, name?: string) =>
  `/apis/coordination.k8s.io/v1/namespaces/${e(namespace)}/leases${name === undefined ? '' : `/${e(name)}`}`;

export function createKubeApi(kubeConfig: KubeConfig, options: KubeApiOptions = {}): KubeApi {
  const client = createRestClient(kubeConfig);
  /** Every call but the watches goes through here. */
  const send = <T>(req: RestRequest): Promise<T> => client.send<T>(req);
  const get = <T>(path: string, query?: RestRequest['query']) => send<T>({ method: 'GET', path, query });
  const post = <T>(path: string, body: unknown) => send<T>({ method: 'POST', path, body });
  const patch = <T>(path: string, body: unknown, contentType: string) => send<T>({ method: 'PATCH', path, body, contentType });
  const watcher = createWatcher(client);
  const throttle = options.throttle;
  /** The call, after a token from the rate limit (--kube-api-qps / --kube-api-burst). */
  const limited = <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    throttle ? async (...args: A): Promise<R> => { await throttle(); return call(...args); } : call;
  return {
    // Heartbeats (the node status updater's get and patch, the Lease) are not throttled: the
    // kubelet sends them with a client of their own with throttling disabled (QPS -1), so that a
    // busy node never looks dead. Registration (createNode) goes through the limit.
    getNode: (name) => orUndefinedOn404(get<V1Node>(`${core}/nodes/${e(name)}`)),
    createNode: limited((body) => post<V1Node>(`${core}/nodes`, body)),
    patchNodeStatus: (name, status) => patch<V1Node>(`${core}/nodes/${e(name)}/status`, { status }, strategicMergePatchType),
    getLease: (namespace, name) => orUndefinedOn404(get<V1Lease>(leases(namespace, name))),
    createLease: (body) => post<V1Lease>(leases(body.metadata!.namespace!), body),
    replaceLease: (body) => send<V1Lease>({ method: 'PUT', path: leases(body.metadata!.namespace!, body.metadata!.name!), body }),
    listPods: limited((fieldSelector) => get<V1PodList>(`${core}/pods`, { fieldSelector })),
    // Watches are never throttled, as client-go's: one long request, nothing per event.
    async watchPods(fieldSelector, resourceVersion, onEvent, done) {
      const controller = await watcher.watch(
        '/api/v1/pods',
        { fieldSelector, allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
        (type: string, obj: unknown) => onEvent(type as WatchEventType, obj),
        (err: unknown) => done(err || undefined),
      );
      return () => controller.abort();
    },
    getPod: limited((namespace, name) => orUndefinedOn404(get<V1Pod>(namespaced(namespace, 'pods', name)))),
    createPod: limited((body) => post<V1Pod>(namespaced(body.metadata!.namespace ?? 'default', 'pods'), body)),
    deletePod: limited(async (namespace, name, uid, gracePeriodSeconds) => {
      try {
        await send({
          method: 'DELETE',
          path: namespaced(namespace, 'pods', name),
          query: { gracePeriodSeconds },
          body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds, ...(uid ? { preconditions: { uid } } : {}) },
        });
      } catch (err) {
        // 404: already gone; 409: a newer pod of the same name exists, which is not ours to delete.
        if (statusOf(err) === 404 || statusOf(err) === 409) return;
        throw err;
      }
    }),
    patchPodStatus: limited((namespace, name, body) => patch<V1Pod>(`${namespaced(namespace, 'pods', name)}/status`, body, mergePatchType)),
    getSecret: limited((namespace, name) => orUndefinedOn404(get<V1Secret>(namespaced(namespace, 'secrets', name)))),
    getConfigMap: limited((namespace, name) => orUndefinedOn404(get<V1ConfigMap>(namespaced(namespace, 'configmaps', name)))),
    getPersistentVolumeClaim: limited((namespace, name) => orUndefinedOn404(get<V1PersistentVolumeClaim>(namespaced(namespace, 'persistentvolumeclaims', name)))),
    getPersistentVolume: limited((name) => orUndefinedOn404(get<V1PersistentVolume>(`${core}/persistentvolumes/${e(name)}`))),
    listServices: limited(() => get<V1ServiceList>(`${core}/services`)),
    async watchServices(resourceVersion, onEvent, done) {
      const controller = await watcher.watch(
        '/api/v1/services',
        { allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
        (type: string, obj: unknown) => onEvent(type as WatchEventType, obj),
        (err: unknown) => done(err || undefined),
      );
      return () => controller.abort();
    },
    requestServiceAccountToken: limited(async (namespace, serviceAccount, request) => {
      const answer = await post<AuthenticationV1TokenRequest>(`${namespaced(namespace, 'serviceaccounts', serviceAccount)}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: request.audiences ?? [],
          expirationSeconds: request.expirationSeconds,
          boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: request.podName, uid: request.podUid },
        },
      });
      const token = answer.status?.token;
      const expires = answer.status?.expirationTimestamp;
      if (!token || !expires) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} (pod ${request.podName}) answered without a token`);
      return { token, expirationTimestamp: new Date(expires) };
    }),
    watchObject(kind, namespace, name, onChange) {
      const list = limited(async (fieldSelector: string) => {
        const l = await get<V1ConfigMapList | V1SecretList>(namespaced(namespace, kind === 'ConfigMap' ? 'configmaps' : 'secrets'), { fieldSelector });
        return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? '' };
      });
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
    getRuntimeClassHandler: limited(async (name) => (await orUndefinedOn404(get<V1RuntimeClass>(`/apis/node.k8s.io/v1/runtimeclasses/${e(name)}`)))?.handler),
    // Events have a limit of their own (the recorder's, as the kubelet's event client has eventRecordQPS).
    createEvent: (body) => post<CoreV1Event>(namespaced(body.metadata!.namespace ?? 'default', 'events'), body),
    patchEvent: (namespace, name, body) => patch<CoreV1Event>(namespaced(namespace, 'events', name), body, mergePatchType),
    reviewToken: limited(async (token, audiences) => {
      const review = await post<V1TokenReview>('/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences?.length ? { audiences } : {}) },
      });
      const status = review.status ?? {};
      const user = status.user?.username ? { username: status.user.username, uid: status.user.uid, groups: status.user.groups } : undefined;
      return { authenticated: status.authenticated === true && user !== undefined, user, error: status.error };
    }),
    reviewAccess: limited(async (request) => {
      const { user, uid, groups, path, ...resource } = request;
      const review = await post<V1SubjectAccessReview>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user, uid, groups,
          ...(path !== undefined ? { nonResourceAttributes: { path, verb: resource.verb } } : { resourceAttributes: resource }),
        },
      });
      const status = review.status;
      return { allowed: status?.allowed === true, denied: status?.denied, reason: status?.reason, evaluationError: status?.evaluationError };
    }),
  };
}
