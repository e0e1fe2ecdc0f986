// The line between the runtime manager and pod networking: "set up / tear down the network
// of this sandbox, give me its IPs". Nothing else about CNI crosses it.

export interface SandboxNetworkTarget {
  podUid: string;
  podName: string;
  podNamespace: string;
  sandboxId: string;
  /** The network namespace path, when the caller knows it. */
  netnsPath?: string;
}

export interface SandboxNetwork {
  /** 'runtime': the CRI runtime runs CNI itself and IPs come from PodSandboxStatus.
   *  'agent': the agent's network manager ran the chain (through the delegate plugin during
   *  RunPodSandbox) and holds the IPs. */
  readonly mode: 'runtime' | 'agent';
  /** IPs the network manager recorded for this sandbox (agent mode); undefined if none. */
  ipsOf(sandboxId: string): string[] | undefined;
  /** Release whatever the manager still holds for this sandbox (agent mode; idempotent). */
  release(target: SandboxNetworkTarget): Promise<void>;
  /** Whether pods can be networked now (agent mode: plugins present, STATUS ok), for the
   * node's NetworkReady; absent in runtime mode, where the runtime reports it. */
  status?(): Promise<{ ready: boolean; message: string }>;
}

/** Runtime mode: the runtime owns networking; the manager holds nothing. */
export const runtimeOwnedNetwork: SandboxNetwork = {
  mode: 'runtime',
  ipsOf: () => undefined,
  release: async () => {},
};
