// What a pod can leave behind on a real node, looked up where the test world and the agent keep
// it: sandboxes and containers (CRI, by the io.kubernetes.pod.uid label), host-local IP leases
// (one file per IP under <world>/cni/ipam/<network>/, holding the sandbox ID), network
// namespaces (containerd's state dir: the world sets netns_mounts_under_state_dir) and the
// pod's directory under the agent's --root-dir (pods/<uid>).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentHarness } from './agent-harness.ts';

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface IpLease {
  ip: string;
  /** The container (sandbox) ID host-local recorded for the lease. */
  sandboxId: string;
}

/** The world's bridge network leases (cni: 'bridge' worlds). */
export function worldIpLeases(h: AgentHarness): IpLease[] {
  const net = h.world.network;
  if (!net) return [];
  const dir = join(h.world.root, 'cni', 'ipam', net.networkName);
  return listDir(dir).filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n)).map((ip) => {
    let sandboxId = '';
    try {
      sandboxId = readFileSync(join(dir, ip), 'utf8').split(/\r?\n/)[0]!.trim();
    } catch {
      // released between the listing and the read
    }
    return { ip, sandboxId };
  });
}

/** Network namespaces containerd holds for this world's sandboxes. */
export function worldNetns(h: AgentHarness): string[] {
  return listDir(join(h.world.root, 'containerd', 'state', 'io.containerd.grpc.v1.cri', 'netns'));
}

/** Whether the agent still has a directory for the pod (volumes, container files, hosts). */
export function podDirExists(h: AgentHarness, uid: string): boolean {
  return existsSync(join(h.rootDir, 'pods', uid));
}

export interface PodLeftovers {
  sandboxes: string[];
  containers: string[];
  ips: string[];
  netns: string[];
  podDir: boolean;
}

/** Everything of one pod UID still on the node. netns are matched through the sandbox's
 * network namespace path (CRI status), and IPs through the sandbox IDs recorded in the leases,
 * so a lease of a sandbox CRI no longer lists counts too when `knownSandboxIds` names it. */
export async function leftoversOf(h: AgentHarness, uid: string, knownSandboxIds: Iterable<string> = []): Promise<PodLeftovers> {
  const sandboxes = (await h.sandboxesOf(uid)).map((s) => s.id);
  const { containers } = await h.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
  const ids = new Set([...sandboxes, ...knownSandboxIds]);
  const ips = worldIpLeases(h).filter((l) => ids.has(l.sandboxId)).map((l) => l.ip);
  const netns: string[] = [];
  for (const id of sandboxes) {
    try {
      const status = await h.cri.podSandboxStatus({ podSandboxId: id, verbose: true });
      const path = JSON.stringify(status).match(/\/netns\/(cni-[0-9a-f-]+)/)?.[1];
      if (path && worldNetns(h).includes(path)) netns.push(path);
    } catch {
      // removed meanwhile
    }
  }
  return { sandboxes, containers: containers.map((c) => c.id), ips, netns, podDir: podDirExists(h, uid) };
}

export function isEmpty(l: PodLeftovers): boolean {
  return !l.sandboxes.length && !l.containers.length && !l.ips.length && !l.netns.length && !l.podDir;
}
