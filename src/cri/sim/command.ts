// `mini-kubelet sim-runtime --listen unix:///path.sock`: the simulated CRI runtime as a process of
// its own, for an agent (or crictl) started separately, with per-RPC latencies and injected faults
// (see cli-options.ts for the flag syntaxes). Prints the endpoint on stdout once it listens, logs
// on stderr, and on SIGINT/SIGTERM stops, removes its socket and exits 0.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../../agent/config/config-error.ts';
import { createLogger } from '../../agent/logger.ts';
import { parseLogFormat } from '../../agent/config/value-parsers.ts';
import { runUntilSignal } from '../../agent/run-until-signal.ts';
import { parseCriEndpoint } from '../endpoint.ts';

interface SimRuntimeFlags {
  listen: string;
  image: string[];
  latency: string[];
  latencyProfile?: string;
  fail: string[];
  delay: string[];
  /** false with --no-container-events. */
  containerEvents: boolean;
  logLevel: string;
  logFormat?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerSimRuntimeCommand(program: Command): void {
  program
    .command('sim-runtime')
    .description('Serve the simulated CRI runtime (RuntimeService + ImageService, in memory) on a unix socket until SIGINT/SIGTERM.')
    .requiredOption('--listen <endpoint>', 'where to listen: unix:///path.sock (a stale socket there is replaced)')
    .option('--image <ref>', 'an image the runtime already holds (repeatable)', collect, [])
    .option('--latency <RPC=MEAN[±JITTER]>', 'latency of every call of an RPC, Go durations, e.g. RunPodSandbox=200ms±50ms (repeatable)', collect, [])
    .option('--latency-profile <file>', 'JSON file { "RunPodSandbox": { "meanMs": 200, "jitterMs": 50 }, ... }; --latency flags override it')
    .option('--fail <RPC:nth=N|RPC:share=S>', 'fail the Nth call of an RPC, or a share of its calls, with UNKNOWN (also :times=N|all) (repeatable)', collect, [])
    .option('--delay <RPC:nth=N:ms=M>', 'hold the Nth call of an RPC M milliseconds (also :times=N|all) (repeatable)', collect, [])
    .option('--no-container-events', 'answer GetContainerEvents with UNIMPLEMENTED, as containerd 1.6 does (agents then relist every second)')
    .option('--log-level <level>', 'pino level: trace, debug, info, warn, error', 'info')
    .option('--log-format <format>', 'json or text; default: text when stderr is a terminal, else json')
    .action(async (flags: SimRuntimeFlags, command: Command) => {
      let socketPath: string;
      let faults;
      let logFormat: 'json' | 'text' | undefined;
      try {
        if (flags.logFormat !== undefined) logFormat = parseLogFormat('--log-format', flags.logFormat);
        try {
          socketPath = parseCriEndpoint(flags.listen).socketPath;
        } catch (err) {
          throw new ConfigError('--listen', (err as Error).message);
        }
        let latencyProfile: { json: string; source: string } | undefined;
        if (flags.latencyProfile) {
          try {
            latencyProfile = { json: readFileSync(flags.latencyProfile, 'utf8'), source: flags.latencyProfile };
          } catch (err) {
            throw new ConfigError('--latency-profile', (err as Error).message);
          }
        }
        const { faultInjectorFromFlags } = await import('./cli-options.ts');
        faults = faultInjectorFromFlags({ latencyProfile, latency: flags.latency, fail: flags.fail, delay: flags.delay });
      } catch (err) {
        if (err instanceof ConfigError) command.error(`error: ${err.message}`, { exitCode: 2, code: 'mini-kubelet.config' });
        throw err;
      }
      const logger = await createLogger(flags.logLevel, { format: logFormat });
      const { startSimRuntime } = await import('./server.ts');
      await runUntilSignal(logger, async () => {
        const sim = await startSimRuntime({ socketPath, images: flags.image, faults, logger, containerEvents: flags.containerEvents });
        // One line on stdout for scripts: the runtime is serving there.
        process.stdout.write(`${sim.endpoint}\n`);
        return sim;
      });
    });
}
