// The world's CNI setup: a bin dir of symlinks to Debian's plugins (so a delegate plugin can
// be added beside them later) and a bridge conflist whose bridge name and subnet are unique
// to this world, so worlds and tests never share a bridge or an address range.
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

export const systemCniBinDir = '/usr/lib/cni';

export interface BridgeNetwork {
  networkName: string;
  bridge: string;
  subnet: string;
  gateway: string;
}

/** Picks 10.X.0.0/16 with X in 100..199 whose bridge mkwX neither exists nor is claimed by
 * another world (`claim` reserves it atomically; the bridge itself appears only with a pod). */
export function pickBridgeNetwork(claim: (net: BridgeNetwork) => boolean = () => true): BridgeNetwork {
  for (let attempt = 0; attempt < 200; attempt++) {
    const x = randomInt(100, 200);
    const net = { networkName: `mini-kubelet-world-${x}`, bridge: `mkw${x}`, subnet: `10.${x}.0.0/16`, gateway: `10.${x}.0.1` };
    if (!existsSync(`/sys/class/net/${net.bridge}`) && claim(net)) return net;
  }
  throw new Error('no free world bridge name mkw100..mkw199');
}

export function linkSystemCniPlugins(binDir: string, from = systemCniBinDir): void {
  mkdirSync(binDir, { recursive: true });
  for (const name of readdirSync(from)) symlinkSync(join(from, name), join(binDir, name));
}

/** bridge + host-local + portmap; host-local keeps its leases under `ipamDataDir`. containerd's
 * CRI plugin brings up `lo` itself with the loopback plugin from the same bin dir. */
export function renderBridgeConflist(net: BridgeNetwork, ipamDataDir: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: net.networkName,
    plugins: [
      {
        type: 'bridge',
        bridge: net.bridge,
        isGateway: true,
        // No masquerade: nothing beyond the VM is reachable, and it leaves host iptables alone.
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: net.subnet, gateway: net.gateway }]],
          dataDir: ipamDataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2);
}
