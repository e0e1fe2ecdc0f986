// A stand-in for kube-scheduler in dev use: every pod without spec.nodeName is bound (through
// the same path as pods/binding) to a Ready, schedulable node, the one with the fewest pods.
// Pods that arrive while no node is Ready wait until one becomes Ready.
import type { Logger } from 'pino';
import { coalescedPass } from './coalesced-pass.ts';
import { ApiError } from './errors.ts';
import { resourceKey, resourceTypes } from './registry.ts';
import type { ResourceService } from './resources.ts';
import type { KubeObject, StoreEvent } from './store.ts';

const podKey = resourceKey(resourceTypes.find((t) => t.plural === 'pods' && !t.group)!);
const nodeKey = resourceKey(resourceTypes.find((t) => t.plural === 'nodes' && !t.group)!);

export function isNodeReady(node: KubeObject): boolean {
  if (node.spec?.unschedulable) return false;
  return (node.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

function needsBinding(pod: KubeObject): boolean {
  return !pod.spec?.nodeName && !pod.metadata.deletionTimestamp;
}

export class DevBinder {
  private readonly unsubscribe: () => void;
  private readonly schedulePass: () => void;

  constructor(private readonly resources: ResourceService, private readonly log: Logger) {
    this.schedulePass = coalescedPass(() => this.bindPending(), log, 'binding pending pods');
    this.unsubscribe = resources.store.subscribe((e) => this.onChange(e));
    this.schedulePass();
  }

  stop(): void {
    this.unsubscribe();
  }

  private onChange(e: StoreEvent): void {
    if (e.type === 'DELETED') return;
    if ((e.resource === podKey && needsBinding(e.object)) || (e.resource === nodeKey && isNodeReady(e.object))) this.schedulePass();
  }

  private bindPending(): void {
    const store = this.resources.store;
    const pending = store.list(podKey).filter(needsBinding);
    if (!pending.length) return;
    const nodes = store.list(nodeKey).filter(isNodeReady);
    if (!nodes.length) return;
    const podsPerNode = new Map<string, number>(nodes.map((n) => [n.metadata.name, 0]));
    for (const p of store.list(podKey)) {
      const n = p.spec?.nodeName;
      if (n && podsPerNode.has(n)) podsPerNode.set(n, podsPerNode.get(n)! + 1);
    }
    for (const pod of pending) {
      const target = [...podsPerNode.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0][0];
      try {
        this.resources.bind(pod.metadata.namespace, pod.metadata.name, { target: { kind: 'Node', name: target } });
        podsPerNode.set(target, podsPerNode.get(target)! + 1);
        this.log.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, uid: pod.metadata.uid, node: target }, 'bound pod to node');
      } catch (err) {
        // Bound or deleted meanwhile by someone else: nothing to do.
        if (!(err instanceof ApiError)) throw err;
      }
    }
  }
}
