// kube-controller-manager's root-ca-cert-publisher: every namespace holds a ConfigMap
// kube-root-ca.crt with the cluster CA under "ca.crt", which the automounted service-account
// volume projects into pods so they can verify the API server. It is made for each new
// namespace, made again if deleted, and put back if someone changes it.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { ApiError } from './errors.ts';
import { resourceKey, resourceTypes } from './registry.ts';
import type { ResourceService } from './resources.ts';
import { rootCaConfigMapName } from './service-account-admission.ts';
import type { KubeObject, StoreEvent } from './store.ts';

const namespaceKey = resourceKey(resourceTypes.find((t) => t.plural === 'namespaces')!);
const configMapType = resourceTypes.find((t) => t.plural === 'configmaps' && !t.group)!;
const configMapKey = resourceKey(configMapType);

const descriptionAnnotation = 'kubernetes.io/description';
const description = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export class RootCaPublisher {
  private readonly unsubscribe: () => void;
  private readonly pending = new Set<string>();

  constructor(private readonly resources: ResourceService, private readonly caCertPem: string, private readonly log: Logger) {
    this.unsubscribe = resources.store.subscribe((e) => this.onChange(e));
    for (const ns of resources.store.list(namespaceKey)) this.sync(ns.metadata.name);
  }

  stop(): void {
    this.unsubscribe();
  }

  private onChange(e: StoreEvent): void {
    if (e.resource === namespaceKey && e.type === 'ADDED') this.schedule(e.object.metadata.name);
    if (e.resource === configMapKey && e.object.metadata.name === rootCaConfigMapName) this.schedule(e.object.metadata.namespace);
  }

  /** After the write that triggered it has been answered and broadcast; once per namespace however many changes came. */
  private schedule(namespace: string): void {
    if (this.pending.has(namespace)) return;
    this.pending.add(namespace);
    setImmediate(() => {
      this.pending.delete(namespace);
      try {
        this.sync(namespace);
      } catch (err) {
        // A namespace being deleted refuses new content; anything else is worth a log line, never a crash.
        if (!(err instanceof ApiError)) this.log.error({ err, namespace }, 'publishing kube-root-ca.crt failed');
      }
    });
  }

  private sync(namespace: string): void {
    const ns = this.resources.store.get(namespaceKey, '', namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const data = { 'ca.crt': this.caCertPem };
    const existing = this.resources.store.get(configMapKey, namespace, rootCaConfigMapName);
    if (!existing) {
      this.resources.create(configMapType, namespace, { metadata: { name: rootCaConfigMapName, annotations: { [descriptionAnnotation]: description } }, data });
      return;
    }
    if (isDeepStrictEqual(existing.data, data) && !existing.binaryData && existing.metadata.annotations?.[descriptionAnnotation] === description) return;
    const reset: KubeObject = { ...existing, metadata: { ...existing.metadata, annotations: { ...existing.metadata.annotations, [descriptionAnnotation]: description } }, data };
    delete reset.binaryData;
    this.resources.update(configMapType, namespace, rootCaConfigMapName, reset);
  }
}
