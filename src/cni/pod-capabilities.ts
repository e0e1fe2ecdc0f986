// What a pod asks of the network, in CNI runtimeConfig terms: hostPorts become portMappings
// (for portmap) and the kubernetes.io/{ingress,egress}-bandwidth annotations become bandwidth
// (for the bandwidth plugin), as the kubelet and containerd compute them.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parseQuantity } from '../pod/quantity.ts';
import { CniErrorCode, CniPluginError } from './errors.ts';

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: string;
  hostIP?: string;
}

export interface BandwidthLimits {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

export const INGRESS_BANDWIDTH_ANNOTATION = 'kubernetes.io/ingress-bandwidth';
export const EGRESS_BANDWIDTH_ANNOTATION = 'kubernetes.io/egress-bandwidth';
// The kubelet's bounds for the annotations, in bits per second.
const MIN_BANDWIDTH = 1e3;
const MAX_BANDWIDTH = 1e15;
// The kubelet asks for "no burst limit" this way; the bandwidth plugin needs a burst with a rate.
const UNLIMITED_BURST = 2 ** 31 - 1;

function bandwidthOf(annotations: Record<string, string>, key: string): number | undefined {
  const text = annotations[key];
  if (text === undefined) return undefined;
  let bits: number;
  try {
    bits = parseQuantity(text);
  } catch (err) {
    throw new CniPluginError(CniErrorCode.invalidNetworkConfig, `annotation ${key}: ${(err as Error).message}`);
  }
  if (bits < MIN_BANDWIDTH) throw new CniPluginError(CniErrorCode.invalidNetworkConfig, `annotation ${key}: ${text} is unreasonably small (< 1k bits/s)`);
  if (bits > MAX_BANDWIDTH) throw new CniPluginError(CniErrorCode.invalidNetworkConfig, `annotation ${key}: ${text} is unreasonably large (> 1P bits/s)`);
  return Math.floor(bits);
}

/** Ports of the pod's containers (and restartable init containers) that ask for a hostPort. */
export function podPortMappings(pod: V1Pod): PortMapping[] {
  const containers: V1Container[] = [
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
    ...(pod.spec?.containers ?? []),
  ];
  const out: PortMapping[] = [];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({
        hostPort: p.hostPort,
        containerPort: p.containerPort,
        protocol: (p.protocol ?? 'TCP').toLowerCase(),
        ...(p.hostIP ? { hostIP: p.hostIP } : {}),
      });
    }
  }
  return out;
}

export function podBandwidth(pod: V1Pod): BandwidthLimits | undefined {
  const annotations = pod.metadata?.annotations ?? {};
  const ingress = bandwidthOf(annotations, INGRESS_BANDWIDTH_ANNOTATION);
  const egress = bandwidthOf(annotations, EGRESS_BANDWIDTH_ANNOTATION);
  if (ingress === undefined && egress === undefined) return undefined;
  return {
    ...(ingress !== undefined ? { ingressRate: ingress, ingressBurst: UNLIMITED_BURST } : {}),
    ...(egress !== undefined ? { egressRate: egress, egressBurst: UNLIMITED_BURST } : {}),
  };
}

/** Every capability argument the pod implies; each plugin later sees only those it declares. */
export function podCapabilityArgs(pod: V1Pod): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  const ports = podPortMappings(pod);
  if (ports.length) args.portMappings = ports;
  const bandwidth = podBandwidth(pod);
  if (bandwidth) args.bandwidth = bandwidth;
  return args;
}
