// The node heartbeat: a Lease in kube-node-lease named after the node, renewed every
// leaseDuration/4 (10 s of 40 s), owned by the Node so it goes away with it.
import type { V1Lease, V1Node } from '@kubernetes/client-node';
import type { KubeApi } from '../api/kube-api.ts';
import { statusOf } from '../api/kube-api.ts';
import { microTime } from '../api/micro-time.ts';
import { withApiTimes } from '../api/api-time.ts';

export const leaseNamespace = 'kube-node-lease';

export function buildLease(node: V1Node, durationSeconds: number, now: Date): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node.metadata!.name!,
      namespace: leaseNamespace,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.metadata!.name!, uid: node.metadata!.uid! }],
    },
    spec: { holderIdentity: node.metadata!.name!, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) },
  };
}

/** Create the lease if missing, else move its renewTime forward. Retries once on a conflict. */
export async function renewLease(api: KubeApi, node: V1Node, durationSeconds: number, now: () => Date): Promise<V1Lease> {
  for (let attempt = 0; ; attempt++) {
    const current = await api.getLease(leaseNamespace, node.metadata!.name!);
    try {
      if (!current) return await api.createLease(buildLease(node, durationSeconds, now()));
      return await api.replaceLease(withApiTimes({
        ...current,
        spec: { ...current.spec, holderIdentity: node.metadata!.name!, leaseDurationSeconds: durationSeconds, renewTime: microTime(now()) },
      }));
    } catch (err) {
      if ((statusOf(err) === 409) && attempt < 1) continue;
      throw err;
    }
  }
}
