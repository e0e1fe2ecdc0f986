// The runtime manager's interface: everything src/agent/ may know about a container
// runtime. CRI messages never cross this line; the agent speaks pods, the manager speaks CRI.
import type { V1Pod } from '@kubernetes/client-node';

/** A sandbox as the runtime reports it, rebuilt from CRI state and io.kubernetes.* labels. */
export interface ObservedSandbox {
  id: string;
  state: 'ready' | 'notready';
  attempt: number;
  createdAtMs: number;
  runtimeHandler: string;
  /** Primary IP first; empty for hostNetwork or before networking is done. */
  ips: string[];
  /** The sandbox shares the node's network namespace (known from PodSandboxStatus). */
  hostNetwork?: boolean;
}

export type ObservedContainerState = 'created' | 'running' | 'exited' | 'unknown';

/** One container instance (a restart is a new instance with attempt + 1). */
export interface ObservedContainer {
  id: string;
  name: string;
  sandboxId: string;
  attempt: number;
  state: ObservedContainerState;
  createdAtMs: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  exitCode?: number;
  /** Runtime's reason, e.g. "Completed", "Error", "OOMKilled". */
  reason?: string;
  message?: string;
  image: string;
  imageRef: string;
  /** io.kubernetes.container.hash: tells whether the spec changed since creation. */
  specHash: string;
}

/** What the runtime holds for one pod UID. Newest sandbox first; containers newest first. */
export interface RuntimePodStatus {
  uid: string;
  name: string;
  namespace: string;
  sandboxes: ObservedSandbox[];
  containers: ObservedContainer[];
}

/** A failure of one executor step, carrying the reason users see (kubelet's names). */
export interface StepFailure {
  step: string;
  /** e.g. CreatePodSandboxError, ErrImagePull, ImagePullBackOff, CrashLoopBackOff,
   * CreateContainerConfigError, CreateContainerError, RunContainerError, InvalidImageName */
  reason: string;
  message: string;
  container?: string;
}

export interface SyncResult {
  failures: StepFailure[];
  /** Waiting reason per container name (what containerStatuses[].state.waiting shows). */
  waiting: Record<string, { reason: string; message: string }>;
  /** Sync again after this long (a backoff expiring), if nothing else wakes the pod. */
  retryAfterMs?: number;
  /** Events to emit (Pulling, Pulled, Created, Started, Killing, BackOff, Failed, ...). */
  events: PodEvent[];
  /** A step created, started, stopped or removed something: a status read before it is stale. */
  runtimeChanged?: boolean;
  /** What this sync created (a sandbox, containers in a sandbox), for a read of known instances. */
  created?: { sandboxIds: string[]; containers: KnownContainer[] };
}

export interface KnownContainer {
  id: string;
  sandboxId: string;
}

/** The instances a pod is known to have, when nothing but its own worker could have added any:
 * a status read of them needs no list calls. */
export interface KnownInstances {
  sandboxIds: string[];
  containers: KnownContainer[];
}

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Container the event is about (becomes involvedObject.fieldPath spec.containers{name}). */
  container?: string;
}

/** What the agent hands the manager for one sync, beyond the pod itself. */
export interface SyncContext {
  nodeName: string;
  hostIP: string;
  /** Resolves a Secret (imagePullSecrets, secretKeyRef); undefined when absent. */
  getSecret(namespace: string, name: string): Promise<import('@kubernetes/client-node').V1Secret | undefined>;
  getConfigMap(namespace: string, name: string): Promise<import('@kubernetes/client-node').V1ConfigMap | undefined>;
  /** Every Service the agent knows, for a container's service variables; rejects while the first
   * list is not in (the kubelet's "services have not yet been read at least once"). Absent:
   * standalone, no service variables. */
  services?(pod: import('@kubernetes/client-node').V1Pod): Promise<readonly import('@kubernetes/client-node').V1Service[]>;
  /** RuntimeClass name → handler; undefined when the class does not exist. */
  resolveRuntimeHandler(runtimeClassName: string): Promise<string | undefined>;
  /** The pod's volumes, made ready by the agent before this sync: a container's mounts, given its
   * resolved env (subPathExpr). Absent: the pod has no volumes to mount. */
  volumeMounts?(container: import('@kubernetes/client-node').V1Container, env: ReadonlyArray<{ key: string; value: string }>): Promise<import('../../volume/pod-volumes.ts').VolumeMount[]>;
  /** The prober's verdicts by container ID (a failed liveness or startup probe kills). Absent: no prober. */
  probeResults?: import('../../pod/probe-results.ts').ProbeResultsView;
}

/** A streaming session a client asked the node for (kubectl exec, attach, port-forward). */
export type StreamRequest =
  | { kind: 'exec'; containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }
  | { kind: 'attach'; containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }
  | { kind: 'portForward'; podUid: string; ports: number[] };

export interface RuntimeInfo {
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeHealth {
  runtimeReady: boolean;
  networkReady: boolean;
  message: string;
}

/** One running container's resource usage, as the runtime measured it (CRI ListContainerStats),
 * named by its io.kubernetes.* labels. Figures the runtime did not give are absent. */
export interface ContainerUsage {
  podUid: string;
  podName: string;
  podNamespace: string;
  /** The container's name in the pod spec. */
  name: string;
  id: string;
  /** When the instance was created (ms since the epoch): the Summary API's container startTime,
   * as the kubelet's CRI stats provider takes it. */
  createdAtMs: number;
  cpu?: {
    /** When the figure was read, ms since the epoch. */
    timestampMs: number;
    /** Cumulative CPU time over all cores since the container started. */
    usageCoreNanoSeconds: number;
    /** The runtime's own rate, when it keeps one (containerd does, from its previous reading). */
    usageNanoCores?: number;
  };
  memory?: {
    timestampMs: number;
    /** Usage less inactive file pages: what `kubectl top` shows. */
    workingSetBytes: number;
    usageBytes?: number;
    rssBytes?: number;
    availableBytes?: number;
    pageFaults?: number;
    majorPageFaults?: number;
  };
  /** Bytes in the container's writable layer. */
  writableLayerBytes?: number;
}

export interface PodRuntime {
  info(): Promise<RuntimeInfo>;
  health(): Promise<RuntimeHealth>;
  /** Decide (computePodActions) and do (the executor) for one running pod: what it takes to move
   * its containers one step toward the spec. Never throws for pod-level failures: they come back
   * as StepFailures. Deleted and finished pods are the agent's pod worker's to stop (killPod). */
  executePodActions(pod: V1Pod, observed: RuntimePodStatus, ctx: SyncContext): Promise<SyncResult>;
  /** Stop every container (grace period in seconds, kubelet rules), then stop the sandbox(es).
   * With `remove`, also remove containers and sandboxes. Idempotent. */
  killPod(target: { uid: string; name: string; namespace: string; pod?: V1Pod }, observed: RuntimePodStatus, gracePeriodSeconds: number, remove: boolean): Promise<SyncResult>;
  /** Runs a command in a running container (CRI ExecSync), for exec probes. Rejects when it cannot
   * run it; a timeout rejects with an error whose `timedOut` is true. */
  execInContainer(containerId: string, cmd: string[], timeoutSeconds: number): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** The URL of the runtime's streaming server for one session (CRI Exec, Attach, PortForward). */
  streamingUrl(req: StreamRequest): Promise<string>;
  /** Full status of one pod (PodSandboxStatus + ContainerStatus for each instance). With `known`,
   * of those instances only (no ListPodSandbox/ListContainers). */
  getPodStatus(uid: string, name: string, namespace: string, known?: KnownInstances): Promise<RuntimePodStatus>;
  /** Cheap snapshot of every pod the runtime holds (ListPodSandbox + ListContainers), for PLEG,
   * adoption after restart, and orphan cleanup. Details such as exit codes may be missing. */
  relist(): Promise<RuntimePodStatus[]>;
  /** Resource usage of every running container (CRI ListContainers + ListContainerStats). */
  stats(): Promise<ContainerUsage[]>;
  /** Remove dead containers beyond the kubelet's keep rules, and sandboxes of unknown pods. */
  garbageCollect(knownPodUids: ReadonlySet<string>): Promise<void>;
  /** Stops what the runtime manager runs on its own (teardown retries); optional. */
  close?(): void;
}
