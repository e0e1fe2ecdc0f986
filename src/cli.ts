// The `mini-kubelet` command line: the agent itself plus its helper subcommands.
// Each subcommand lives next to the code it drives and registers itself here.
import { Command, CommanderError } from 'commander';

const program = new Command('mini-kubelet')
  .description('A small Kubernetes node agent: pods from the API server to a CRI runtime.')
  .showHelpAfterError()
  .exitOverride();

const registrations: Array<[string, string]> = [
  ['./agent/command.ts', 'registerAgentCommand'],
  ['./agent/dev-command.ts', 'registerDevCommand'],
  ['./apiserver/command.ts', 'registerApiserverCommand'],
  ['./cni/command.ts', 'registerCniCommand'],
  ['./device/command.ts', 'registerDevicePluginCommand'],
];
for (const [path, name] of registrations) {
  let mod: Record<string, unknown>;
  try {
    mod = await import(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(err).includes(path.slice(2))) continue;
    throw err;
  }
  (mod[name] as (p: Command) => void)(program);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Kubelet convention: bad flags exit 2; --help and --version exit 0.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  throw err;
}
