// `mini-kubelet apiserver`: run the dev control plane until SIGINT/SIGTERM; on request, with a
// bootstrap kubeconfig for a new node (kubeadm's token + bootstrap-kubelet.conf, in one step).
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { parseDuration } from '../agent/config/value-parsers.ts';
import { findManifestsDir } from '../util/manifests-dir.ts';
import type { KubeObject } from './store.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

function duration(value: string): number {
  try {
    return parseDuration('', value);
  } catch {
    throw new InvalidArgumentError('must be a duration such as 24h0m0s, 30m or 45s');
  }
}

/** manifests/rbac/node-bootstrap.yaml: what lets a bootstrap token's node ask for its certificate. */
function nodeBootstrapBindings(): KubeObject[] {
  const file = join(findManifestsDir(import.meta.url), 'rbac', 'node-bootstrap.yaml');
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON() as KubeObject).filter(Boolean);
}

export function registerApiserverCommand(program: Command): void {
  program
    .command('apiserver')
    .description('Run the embedded dev control plane: an in-memory, kubectl-compatible Kubernetes API server.')
    .requiredOption('--port <port>', 'port to listen on (0 picks a free one)', port)
    .option('--bind <address>', 'address to listen on', '127.0.0.1')
    .option('--kubeconfig-out <file>', 'write an admin kubeconfig for this server (HTTPS, cluster CA, admin client certificate) to FILE')
    .option('--node-kubeconfig-out <file>', 'write a kubeconfig for the node named by --node-name (CN=system:node:<name>, O=system:nodes) to FILE')
    .option('--node-name <name>', 'the node --node-kubeconfig-out is for')
    .option('--bootstrap-kubeconfig-out <file>', 'make a bootstrap token and write a bootstrap kubeconfig carrying it to FILE, for a node started with --bootstrap-kubeconfig; applies manifests/rbac/node-bootstrap.yaml')
    .option('--bootstrap-token-ttl <duration>', 'lifetime of that bootstrap token (kubeadm default 24h0m0s)', duration, 24 * 3600_000)
    .option('--cluster-signing-duration <duration>', 'lifetime of the certificates the CSR signer issues (kube-controller-manager default 8760h0m0s)', duration)
    .option('--no-binder', 'do not bind unscheduled pods to Ready nodes')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (opts: {
      port: number; bind: string; kubeconfigOut?: string; nodeKubeconfigOut?: string; nodeName?: string; bootstrapKubeconfigOut?: string; bootstrapTokenTtl: number;
      clusterSigningDuration?: number; binder: boolean; logLevel: string;
    }) => {
      if (opts.nodeKubeconfigOut && !opts.nodeName) program.error('error: --node-kubeconfig-out needs --node-name');
      const logger = pino({ level: opts.logLevel });
      const { startApiServer } = await import('./index.ts');
      const server = await startApiServer({
        port: opts.port, bind: opts.bind, binder: opts.binder, kubeconfigOut: opts.kubeconfigOut, logger,
        ...(opts.clusterSigningDuration !== undefined ? { clusterSigningDurationMs: opts.clusterSigningDuration } : {}),
      });
      if (opts.nodeKubeconfigOut) {
        await mkdir(dirname(opts.nodeKubeconfigOut), { recursive: true });
        await writeFile(opts.nodeKubeconfigOut, await server.nodeKubeconfig(opts.nodeName!), { mode: 0o600 });
      }
      process.stdout.write(`${server.url}\n`);
      if (opts.bootstrapKubeconfigOut) {
        const created = server.createObjects(nodeBootstrapBindings());
        const { token, kubeconfigYaml } = server.bootstrapKubeconfig(opts.bootstrapTokenTtl);
        await mkdir(dirname(opts.bootstrapKubeconfigOut), { recursive: true });
        await writeFile(opts.bootstrapKubeconfigOut, kubeconfigYaml, { mode: 0o600 });
        logger.info({ file: opts.bootstrapKubeconfigOut, tokenId: token.id, expiration: token.expiration, created }, 'bootstrap kubeconfig written');
      }
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
