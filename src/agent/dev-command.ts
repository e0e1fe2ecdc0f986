// `mini-kubelet dev` (npm start): a whole one-machine cluster for trying the agent out: the
// dev control plane, a runtime (the simulated one, no root needed; or the test world's real
// containerd), and the agent, with the example pods applied. Ctrl-C stops all of it and
// removes every pod it ran.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from './api/kubeconfig.ts';
import type { Command } from 'commander';
import { ConfigError } from './config/config-error.ts';
import { resolveAgentConfig, type AgentFlags } from './config/resolve-config.ts';
import { applyManifests, readManifests } from './dev/apply-manifests.ts';
import { createLogger, type Logger } from './logger.ts';
import { runUntilSignal } from './run-until-signal.ts';
import { findManifestsDir } from '../util/manifests-dir.ts';
import { parseInteger } from './config/value-parsers.ts';

const manifestsDir = findManifestsDir(import.meta.url);

interface DevFlags {
  runtime: string;
  port: string;
  kubeconfigOut?: string;
  hostnameOverride?: string;
  containerRuntimeEndpoint?: string;
  logLevel?: string;
  logFormat?: string;
  loggingFormat?: string;
  v?: string;
  maxPods?: string;
  kubeApiQps?: string;
  kubeApiBurst?: string;
  config?: string;
  examples: boolean;
  viewerPort: string;
}

export function registerDevCommand(program: Command): void {
  program.command('dev')
    .description('dev control plane + runtime + agent on this machine, with example pods (npm start)')
    .option('--runtime <kind>', 'sim (simulated CRI runtime, no root) or containerd (the test world; root)', 'sim')
    .option('--port <port>', 'dev API server port (0 = ephemeral)', '16443')
    .option('--kubeconfig-out <file>', 'where to write the kubeconfig (default: in the temp dir)')
    .option('--hostname-override <name>', 'node name instead of the hostname')
    .option('--container-runtime-endpoint <endpoint>', 'use this CRI runtime instead of starting one')
    .option('--log-level <level>', 'pino level: trace, debug, info, warn, error')
    .option('--log-format <format>', 'json or text (one readable line each); default: text when stderr is a terminal, else json')
    .option('--logging-format <format>', 'the kubelet\'s name for --log-format: json or text')
    .option('--v <level>', 'klog-style verbosity (0-10)')
    .option('--max-pods <n>', 'pods the node admits at most (default 110), for experiments with many pods')
    .option('--kube-api-qps <n>', "the agent's requests a second to the API server (default 50; 0 = client-go default 5)")
    .option('--kube-api-burst <n>', "the agent's burst above --kube-api-qps (default 100; 0 = client-go default 10)")
    .option('--config <file>', "the agent's KubeletConfiguration file (kubelet.config.k8s.io/v1beta1); flags override it")
    .option('--no-examples', 'do not apply manifests/examples')
    .option('--viewer-port <port>', 'the pod timeline viewer on 127.0.0.1, plain HTTP (0 = ephemeral)', '16480')
    .action(async (flags: DevFlags) => {
      let port: number;
      let agentFlags: AgentFlags;
      try {
        if (flags.runtime !== 'sim' && flags.runtime !== 'containerd') throw new ConfigError('--runtime', `"${flags.runtime}" is not sim or containerd`);
        port = parseInteger('--port', flags.port, 0, 65535);
        parseInteger('--viewer-port', flags.viewerPort, 0, 65535);
        agentFlags = {
          hostnameOverride: flags.hostnameOverride, logLevel: flags.logLevel, logFormat: flags.logFormat, loggingFormat: flags.loggingFormat, v: flags.v, maxPods: flags.maxPods, config: flags.config,
          kubeApiQps: flags.kubeApiQps, kubeApiBurst: flags.kubeApiBurst,
        };
        resolveAgentConfig(agentFlags);
      } catch (err) {
        if (err instanceof ConfigError) program.error(`error: ${err.message}`, { exitCode: 2, code: 'mini-kubelet.config' });
        throw err;
      }
      const { logLevel, logFormat } = resolveAgentConfig(agentFlags).config;
      const logger = await createLogger(logLevel, { format: logFormat });
      await runUntilSignal(logger, () => startDev(flags, port, agentFlags, logger));
    });
}

async function startDev(flags: DevFlags, port: number, agentFlags: AgentFlags, logger: Logger) {
  const dir = mkdtempSync(join(tmpdir(), 'mini-kubelet-dev-'));
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => logger.warn({ err: String(err) }, 'dev shutdown step failed'));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Loaded here, not at the top: the agent's own command shares this binary and needs none of it.
    const { startApiServer } = await import('../apiserver/index.ts');
    const { startAgent } = await import('./start-agent.ts');
    const kubeconfigOut = flags.kubeconfigOut ?? join(dir, 'kubeconfig');
    const apiServer = await startApiServer({ port, kubeconfigOut, logger });
    stops.push(() => apiServer.stop());

    let endpoint = flags.containerRuntimeEndpoint;
    let busyboxImage: string | undefined;
    let cni: { confDir: string; binDir: string } | undefined;
    if (!endpoint && flags.runtime === 'sim') {
      const { startSimRuntime } = await import('../cri/sim/index.ts');
      const sim = await startSimRuntime({ socketPath: join(dir, 'sim.sock'), logger });
      stops.push(() => sim.stop());
      endpoint = sim.endpoint;
    } else if (!endpoint) {
      const { startTestWorld } = await import('../world/index.ts');
      const world = await startTestWorld({ logger });
      stops.push(() => world.stop());
      endpoint = world.containerdEndpoint;
      busyboxImage = world.images.busybox;
      cni = { confDir: world.cniConfDir, binDir: world.cniBinDir };
    }

    // The agent runs as the node (CN=system:node:<name>), as a kubelet does, and trusts the
    // cluster CA for client certificates: the dev control plane proxies logs with one of its own.
    const clientCaFile = join(dir, 'client-ca.crt');
    writeFileSync(clientCaFile, apiServer.caCertPem);
    const { config } = resolveAgentConfig({
      ...agentFlags,
      clientCaFile,
      containerRuntimeEndpoint: endpoint,
      rootDir: join(dir, 'root'),
      podLogsDir: join(dir, 'pods'),
      port: '0',
      healthzPort: '0',
      ...(cni ? { cniConfDir: cni.confDir, cniBinDir: cni.binDir } : {}),
    });
    const kubeConfig = apiServer.kubeConfig();
    const nodeKubeConfig = new KubeConfig();
    nodeKubeConfig.loadFromString(await apiServer.nodeKubeconfig(config.nodeName));
    const agent = await startAgent(config, { logger, kubeConfig: nodeKubeConfig });
    stops.push(async () => {
      await agent.stop();
      // Nothing may outlive dev: every pod goes, through the runtime.
      await agent.removeAllPods();
    });

    const objects = [...readManifests(join(manifestsDir, 'runtimeclasses.yaml')), ...(flags.examples ? readManifests(join(manifestsDir, 'examples')) : [])];
    if (busyboxImage) {
      // The test world has no public registry: point busybox at its loopback registry.
      for (const o of objects) {
        const spec = (o as { spec?: { containers?: Array<{ image?: string }> } }).spec;
        for (const c of spec?.containers ?? []) if (c.image?.startsWith('busybox')) c.image = busyboxImage;
      }
    }
    const created = await applyManifests(kubeConfig, objects);
    logger.info({ created }, 'applied manifests');
    // A browser has no admin certificate: the viewer fetches the node's timeline pages through the
    // API server's node proxy with dev's own (src/agent/dev/timeline-viewer.ts).
    const { startTimelineViewer } = await import('./dev/timeline-viewer.ts');
    // A busy port (another dev running) costs the viewer, not the cluster.
    const viewer = await startTimelineViewer({ kubeConfig, nodeName: config.nodeName, port: parseInteger('--viewer-port', flags.viewerPort, 0, 65535), logger })
      .catch((err: unknown) => {
        logger.warn({ err: String(err), port: flags.viewerPort }, 'the timeline viewer could not start');
        return `not started (${err instanceof Error ? err.message : String(err)}; try --viewer-port 0)`;
      });
    if (typeof viewer !== 'string') stops.push(() => viewer.stop());

    process.stdout.write([
      '',
      `mini-kubelet dev is up: node "${config.nodeName}" on the ${flags.containerRuntimeEndpoint ? endpoint : flags.runtime} runtime, API server ${apiServer.url}`,
      '',
      `  export KUBECONFIG=${kubeconfigOut}`,
      '  kubectl get nodes -o wide',
      '  kubectl get pods -o wide',
      '  kubectl logs two-containers -c talker',
      '  kubectl top node; kubectl top pod',
      '  npx mini-kubelet trace default/two-containers      # the pod\'s timeline in the terminal',
      '',
      typeof viewer === 'string' ? `Pod timelines in a browser: viewer ${viewer}` : `Pod timelines in a browser: ${viewer.timelineUrl('default', 'two-containers')} (all pods: ${viewer.url}/debug/pods)`,
      '',
      `Ctrl-C stops everything, removes every pod and the state under ${dir}.`,
      '',
    ].join('\n'));
    return { stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
