// Facts about this machine that the Node object reports: sizes, identity, OS, addresses.
import { readFileSync, statfsSync } from 'node:fs';
import { arch, cpus, networkInterfaces, release, totalmem } from 'node:os';

export interface MachineFacts {
  cpuCount: number;
  memoryBytes: number;
  /** Size of the filesystem holding --root-dir (ephemeral-storage). */
  rootFsBytes: number;
  machineID: string;
  bootID: string;
  systemUUID: string;
  osImage: string;
  kernelVersion: string;
  /** Kubernetes spelling: amd64, arm64, ... */
  architecture: string;
  operatingSystem: string;
  firstIPv4?: string;
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function osImageFrom(osRelease: string): string {
  const pretty = /^PRETTY_NAME=(.*)$/m.exec(osRelease)?.[1];
  return pretty ? pretty.replace(/^["']|["']$/g, '') : 'Unknown';
}

const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

/** The first non-loopback IPv4 address, which the kubelet would also pick as InternalIP. */
export function firstNonLoopbackIPv4(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

export function readMachineFacts(rootDir: string): MachineFacts {
  let rootFsBytes = 0;
  try {
    const s = statfsSync(rootDir);
    rootFsBytes = s.blocks * s.bsize;
  } catch {
    // Root dir not created yet: report 0 rather than fail registration.
  }
  return {
    cpuCount: cpus().length,
    memoryBytes: totalmem(),
    rootFsBytes,
    machineID: readTrimmed('/etc/machine-id'),
    bootID: readTrimmed('/proc/sys/kernel/random/boot_id'),
    systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid'),
    osImage: osImageFrom(readTrimmed('/etc/os-release')),
    kernelVersion: release(),
    architecture: goArch[arch()] ?? arch(),
    operatingSystem: 'linux',
    firstIPv4: firstNonLoopbackIPv4(),
  };
}
