// kube-controller-manager's tokencleaner: a bootstrap token's Secret is deleted once its
// expiration has passed, so an expired token is gone from the cluster, not just refused.
import type { Logger } from 'pino';
import { bootstrapTokenSecretType } from './auth/bootstrap-tokens.ts';
import { ApiError } from './errors.ts';
import { resourceKey, resourceTypes } from './registry.ts';
import type { ResourceService } from './resources.ts';
import type { KubeObject, StoreEvent } from './store.ts';
import { runAt } from '../util/timer-limit.ts';

const secretType = resourceTypes.find((t) => t.plural === 'secrets' && !t.group)!;
const secretKey = resourceKey(secretType);

export class BootstrapTokenCleaner {
  private readonly unsubscribe: () => void;
  private readonly timers = new Map<string, () => void>();

  constructor(private readonly resources: ResourceService, private readonly log: Logger) {
    this.unsubscribe = resources.store.subscribe((e) => this.onChange(e));
    for (const secret of resources.store.list(secretKey, 'kube-system')) this.schedule(secret);
  }

  stop(): void {
    this.unsubscribe();
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  private onChange(e: StoreEvent): void {
    if (e.resource !== secretKey || e.object.metadata.namespace !== 'kube-system') return;
    if (e.type === 'DELETED') {
      this.timers.get(e.object.metadata.name)?.();
      this.timers.delete(e.object.metadata.name);
      return;
    }
    this.schedule(e.object);
  }

  private schedule(secret: KubeObject): void {
    const name = secret.metadata.name;
    this.timers.get(name)?.();
    this.timers.delete(name);
    if (secret.type !== bootstrapTokenSecretType || !secret.data?.expiration) return;
    const at = Date.parse(Buffer.from(String(secret.data.expiration), 'base64').toString('utf8'));
    if (Number.isNaN(at)) return;
    this.timers.set(name, runAt(at, () => this.remove(name, secret.metadata.uid)));
  }

  private remove(name: string, uid: string): void {
    this.timers.delete(name);
    try {
      this.resources.delete(secretType, 'kube-system', name, { preconditions: { uid } });
      this.log.info({ secret: `kube-system/${name}` }, 'expired bootstrap token deleted');
    } catch (err) {
      if (!(err instanceof ApiError)) this.log.error({ err, secret: name }, 'deleting an expired bootstrap token failed');
    }
  }
}
