// What the runtime holds, rebuilt from CRI state and the io.kubernetes.* labels: the full
// status of one pod (PodSandboxStatus + ContainerStatus per instance, termination messages
// read back; the instances found by label, or given by a caller that knows them) and the cheap
// relist of every pod (ListPodSandbox + ListContainers).
import { isAbsolute } from 'node:path';
import type { CriClient } from '../client.ts';
import { isNotFound } from '../errors.ts';
import type { Container, ContainerStatus, PodSandbox, PodSandboxStatus } from '../types.ts';
import type { SandboxNetwork } from '../../cni/sandbox-network.ts';
import type { KnownInstances, ObservedContainer, ObservedContainerState, ObservedSandbox, RuntimePodStatus } from './pod-runtime.ts';
import { containerIdentityOf, podIdentityOf, POD_UID_LABEL } from './labels.ts';
import { readTerminationMessage } from './termination-message.ts';

const nsToMs = (ns: number) => Math.floor(ns / 1e6);

export function observedSandbox(s: PodSandbox | PodSandboxStatus, ips: string[], hostNetwork?: boolean): ObservedSandbox {
  return {
    id: s.id,
    state: s.state === 'SANDBOX_READY' ? 'ready' : 'notready',
    attempt: s.metadata?.attempt ?? 0,
    createdAtMs: nsToMs(s.createdAt),
    runtimeHandler: s.runtimeHandler,
    ips,
    ...(hostNetwork !== undefined ? { hostNetwork } : {}),
  };
}

function observedContainerState(state: string): ObservedContainerState {
  switch (state) {
    case 'CONTAINER_CREATED': return 'created';
    case 'CONTAINER_RUNNING': return 'running';
    case 'CONTAINER_EXITED': return 'exited';
    default: return 'unknown';
  }
}

/** From ListContainers: no exit code or times beyond creation. */
export function observedContainerFromList(c: Container): ObservedContainer {
  const id = containerIdentityOf(c.labels, c.annotations);
  return {
    id: c.id,
    name: c.metadata?.name || id?.containerName || '',
    sandboxId: c.podSandboxId,
    attempt: c.metadata?.attempt ?? id?.restartCount ?? 0,
    state: observedContainerState(c.state),
    createdAtMs: nsToMs(c.createdAt),
    image: c.image?.userSpecifiedImage || c.image?.image || '',
    imageRef: c.imageRef,
    specHash: id?.specHash ?? '',
  };
}

export function observedContainerFromStatus(s: ContainerStatus, sandboxId: string, message: string): ObservedContainer {
  const id = containerIdentityOf(s.labels, s.annotations);
  const state = observedContainerState(s.state);
  return {
    id: s.id,
    name: s.metadata?.name || id?.containerName || '',
    sandboxId,
    attempt: s.metadata?.attempt ?? id?.restartCount ?? 0,
    state,
    createdAtMs: nsToMs(s.createdAt),
    ...(s.startedAt ? { startedAtMs: nsToMs(s.startedAt) } : {}),
    ...(state === 'exited' ? { finishedAtMs: nsToMs(s.finishedAt), exitCode: s.exitCode } : {}),
    ...(s.reason ? { reason: s.reason } : {}),
    ...(message ? { message } : {}),
    image: s.image?.userSpecifiedImage || s.image?.image || '',
    imageRef: s.imageRef,
    specHash: id?.specHash ?? '',
  };
}

const newestFirst = <T extends { createdAtMs: number }>(a: T, b: T) => b.createdAtMs - a.createdAtMs;

export interface ObserveDeps {
  runtime: CriClient;
  network: SandboxNetwork;
}

/** IPs of a sandbox: the network manager's (agent mode) or the runtime's (runtime mode). */
export function sandboxIPs(network: SandboxNetwork, status: PodSandboxStatus): string[] {
  if (status.linux?.namespaces?.options?.network === 'NODE') return [];
  const fromAgent = network.mode === 'agent' ? network.ipsOf(status.id) : undefined;
  if (fromAgent) return fromAgent;
  const net = status.network;
  if (!net?.ip) return [];
  return [net.ip, ...net.additionalIps.map(p => p.ip).filter(Boolean)];
}

/** The pod's instances: as the caller knows them, or found by the pod UID label. */
async function instancesOf(deps: ObserveDeps, uid: string, known: KnownInstances | undefined): Promise<KnownInstances> {
  if (known) return known;
  const selector = { labelSelector: { [POD_UID_LABEL]: uid } };
  const [{ items }, { containers }] = await Promise.all([
    deps.runtime.listPodSandbox({ filter: selector }),
    deps.runtime.listContainers({ filter: selector }),
  ]);
  return { sandboxIds: items.map((s) => s.id), containers: containers.map((c) => ({ id: c.id, sandboxId: c.podSandboxId })) };
}

export async function getPodStatus(deps: ObserveDeps, uid: string, name: string, namespace: string, known?: KnownInstances): Promise<RuntimePodStatus> {
  const { sandboxIds, containers: containerItems } = await instancesOf(deps, uid, known);

  const sandboxes: ObservedSandbox[] = [];
  for (const id of sandboxIds) {
    const status = await ignoreNotFound(deps.runtime.podSandboxStatus({ podSandboxId: id }));
    if (!status?.status) continue;
    const s = status.status;
    sandboxes.push(observedSandbox(s, sandboxIPs(deps.network, s), s.linux?.namespaces?.options ? s.linux.namespaces.options.network === 'NODE' : undefined));
  }

  const containers: ObservedContainer[] = [];
  for (const item of containerItems) {
    const res = await ignoreNotFound(deps.runtime.containerStatus({ containerId: item.id }));
    if (!res?.status) continue;
    const s = res.status;
    const message = s.state === 'CONTAINER_EXITED' ? s.message || await terminationMessageOf(s) : s.message;
    containers.push(observedContainerFromStatus(s, item.sandboxId, message));
  }
  return { uid, name, namespace, sandboxes: sandboxes.sort(newestFirst), containers: containers.sort(newestFirst) };
}

async function terminationMessageOf(s: ContainerStatus): Promise<string> {
  const id = containerIdentityOf(s.labels, s.annotations);
  if (!id) return '';
  const mount = s.mounts.find(m => m.containerPath === id.terminationMessagePath);
  // containerd reports the full log path (sandbox log directory + the container's log_path).
  const logPath = s.logPath && isAbsolute(s.logPath) ? s.logPath : undefined;
  return readTerminationMessage({ messageFile: mount?.hostPath, policy: id.terminationMessagePolicy, exitCode: s.exitCode, logPath });
}

/** Every pod the runtime holds, grouped by the pod UID label; sandboxes and containers without
 * it were not made by a kubelet and are left out. */
export async function relist(deps: ObserveDeps): Promise<RuntimePodStatus[]> {
  // Quiet: a relist runs every second; the PLEG logs what changed, not that it looked.
  const [{ items }, { containers }] = await Promise.all([deps.runtime.listPodSandbox({}, { quiet: true }), deps.runtime.listContainers({}, { quiet: true })]);
  const pods = new Map<string, RuntimePodStatus>();
  const podOf = (labels: Record<string, string>) => {
    const id = podIdentityOf(labels);
    if (!id) return undefined;
    let pod = pods.get(id.uid);
    if (!pod) pods.set(id.uid, (pod = { ...id, sandboxes: [], containers: [] }));
    return pod;
  };
  for (const s of items) podOf(s.labels)?.sandboxes.push(observedSandbox(s, deps.network.ipsOf(s.id) ?? []));
  for (const c of containers) podOf(c.labels)?.containers.push(observedContainerFromList(c));
  for (const pod of pods.values()) {
    pod.sandboxes.sort(newestFirst);
    pod.containers.sort(newestFirst);
  }
  return [...pods.values()];
}

async function ignoreNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined; // removed between list and status
    throw err;
  }
}
