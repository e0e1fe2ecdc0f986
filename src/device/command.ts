// `mini-kubelet device-plugin sample ...`: runs the sample device plugin until SIGINT/SIGTERM.
//   --mode fake (default): N character devices (1:3, like /dev/null) under --dev-dir, served
//     as --resource (default example.com/fpga), env <RESOURCE>=<ids>.
//   --mode nvidia: GPUs found under --dev-root (default /), served as nvidia.com/gpu.
// --control SOCKET opens the health control socket (see control-socket.ts).
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../agent/logger.ts';
import { runUntilSignal } from '../agent/run-until-signal.ts';
import { startControlSocket } from './control-socket.ts';
import { fakeDeviceBackend } from './fake-devices.ts';
import { discoverNvidiaGpus, nvidiaBackend } from './nvidia-discovery.ts';
import { extendedResourceNameError } from './resource-name.ts';
import { startDevicePluginServer, type DeviceBackend } from './sample-plugin.ts';

export const DEFAULT_DEVICE_PLUGIN_DIR = '/var/lib/kubelet/device-plugins';

interface SampleFlags {
  mode: string;
  resource: string;
  count: number;
  devicePluginDir: string;
  devDir?: string;
  devRoot: string;
  control?: string;
  preStartRequired?: boolean;
  logLevel: string;
  logFormat?: string;
}

function positiveInt(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(text);
}

async function backendFor(flags: SampleFlags): Promise<DeviceBackend> {
  if (flags.mode === 'nvidia') {
    const found = await discoverNvidiaGpus(flags.devRoot);
    if (!found.gpus.length) throw new Error(`no NVIDIA GPUs (character devices ${join(flags.devRoot, 'dev')}/nvidia[0-9]*) found`);
    return nvidiaBackend(found, flags.devRoot);
  }
  const nameError = extendedResourceNameError(flags.resource);
  if (nameError) throw new Error(nameError);
  const devDir = flags.devDir ?? join('/run/mini-kubelet/sample-devices', flags.resource.replace(/[^A-Za-z0-9._-]/g, '_'));
  return fakeDeviceBackend(flags.resource, flags.count, devDir);
}

export function registerDevicePluginCommand(program: Command): void {
  const group = program.command('device-plugin').description('Device plugins that register with mini-kubelet (or any kubelet).');
  group
    .command('sample')
    .description('Serve fake devices (real character-device nodes) or the NVIDIA GPUs of this machine.')
    .addOption(new Option('--mode <mode>', 'fake devices, or the NVIDIA GPUs of this machine').choices(['fake', 'nvidia']).default('fake'))
    .option('--resource <name>', 'extended resource name (fake mode)', 'example.com/fpga')
    .option('--count <n>', 'number of fake devices', positiveInt, 4)
    .option('--device-plugin-dir <dir>', 'where kubelet.sock is and this plugin puts its socket', DEFAULT_DEVICE_PLUGIN_DIR)
    .option('--dev-dir <dir>', 'directory for the fake device nodes')
    .option('--dev-root <dir>', 'root under which /dev/nvidia* are looked up (nvidia mode)', '/')
    .option('--control <socket>', 'unix socket taking "unhealthy ID" / "healthy ID" / "list" lines')
    .option('--pre-start-required', 'ask the agent to call PreStartContainer before each container start')
    .option('--log-level <level>', 'pino level', 'info')
    .addOption(new Option('--log-format <format>', 'json or text; default: text when stderr is a terminal, else json').choices(['json', 'text']))
    .action(async (flags: SampleFlags) => {
      const logger = await createLogger(flags.logLevel, { format: flags.logFormat as 'json' | 'text' | undefined });
      let backend: DeviceBackend;
      try {
        backend = await backendFor(flags);
      } catch (err) {
        // A setup problem the user must fix (no GPUs, bad name, no root for mknod): say it plainly.
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(1);
      }
      await runUntilSignal(logger, async () => {
        const plugin = await startDevicePluginServer({ backend, pluginDir: flags.devicePluginDir, logger, preStartRequired: flags.preStartRequired });
        const control = flags.control ? await startControlSocket(flags.control, plugin, () => backend.deviceIds) : undefined;
        // One line on stdout for scripts: the plugin is serving.
        process.stdout.write(`serving ${backend.deviceIds.length} ${backend.resource} device(s) on ${plugin.socketPath}\n`);
        return {
          async stop() {
            await control?.stop();
            await plugin.stop();
          },
        };
      });
    });
}
