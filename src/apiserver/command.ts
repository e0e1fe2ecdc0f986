// `mini-kubelet apiserver`: run the dev control plane until SIGINT/SIGTERM.
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

export function registerApiserverCommand(program: Command): void {
  program
    .command('apiserver')
    .description('Run the embedded dev control plane: an in-memory, kubectl-compatible Kubernetes API server.')
    .requiredOption('--port <port>', 'port to listen on (0 picks a free one)', port)
    .option('--bind <address>', 'address to listen on', '127.0.0.1')
    .option('--kubeconfig-out <file>', 'write an admin kubeconfig for this server (HTTPS, cluster CA, admin client certificate) to FILE')
    .option('--no-binder', 'do not bind unscheduled pods to Ready nodes')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (opts: { port: number; bind: string; kubeconfigOut?: string; binder: boolean; logLevel: string }) => {
      const logger = pino({ level: opts.logLevel });
      const { startApiServer } = await import('./index.ts');
      const server = await startApiServer({ port: opts.port, bind: opts.bind, binder: opts.binder, kubeconfigOut: opts.kubeconfigOut, logger });
      process.stdout.write(`${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'stopping dev API server');
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.stop();
    });
}
