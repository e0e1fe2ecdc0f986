// The `mini-kubelet` command line: the agent itself plus its helper subcommands.
// Each subcommand lives next to the code it drives and registers itself here; the command
// modules import what they run lazily, so `mini-kubelet` (the agent) loads no dev server code.
import { Command, CommanderError } from 'commander';
import { registerAgentCommand } from './agent/command.ts';
import { registerDevCommand } from './agent/dev-command.ts';
import { registerApiserverCommand } from './apiserver/command.ts';
import { registerCniCommand } from './cni/command.ts';
import { registerSimRuntimeCommand } from './cri/sim/command.ts';
import { registerDevicePluginCommand } from './device/command.ts';
import { registerTraceCommand } from './trace/command.ts';

const program = new Command('mini-kubelet')
  .description('A small Kubernetes node agent: pods from the API server to a CRI runtime.')
  .showHelpAfterError()
  .exitOverride();

registerAgentCommand(program);
registerDevCommand(program);
registerApiserverCommand(program);
registerCniCommand(program);
registerSimRuntimeCommand(program);
registerDevicePluginCommand(program);
registerTraceCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Kubelet convention: bad flags exit 2; --help and --version exit 0.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  throw err;
}
