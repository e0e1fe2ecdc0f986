// `mini-kubelet cni ...`: helper commands for agent-owned pod networking.
import { join } from 'node:path';
import type { Command } from 'commander';
import { installDelegate } from './install.ts';

export function registerCniCommand(program: Command): void {
  const cni = program.command('cni').description('CNI helpers for --network-mode agent');
  cni
    .command('install')
    .description("Install the delegate plugin into the runtime's CNI bin dir and a conflist naming it into its conf dir")
    .requiredOption('--conf-dir <dir>', "the runtime's CNI configuration directory (e.g. /etc/cni/net.d)")
    .requiredOption('--bin-dir <dir>', "the runtime's CNI plugin directory (e.g. /opt/cni/bin)")
    .option('--socket <path>', 'the agent socket the delegate dials (default <root-dir>/cni/agent.sock)')
    .option('--root-dir <dir>', "the agent's --root-dir", '/var/lib/mini-kubelet')
    .option('--network-name <name>', 'network name in the installed conflist', 'mini-kubelet')
    .action(async (o: { confDir: string; binDir: string; socket?: string; rootDir: string; networkName: string }) => {
      const installed = await installDelegate({
        confDir: o.confDir,
        binDir: o.binDir,
        socketPath: o.socket ?? join(o.rootDir, 'cni', 'agent.sock'),
        networkName: o.networkName,
      });
      process.stdout.write(`installed ${installed.pluginPath}\ninstalled ${installed.confPath}\n`);
    });
}
