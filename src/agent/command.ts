// The root `mini-kubelet` command: the node agent itself, with the kubelet's flag names.
import { Command } from 'commander';
import { ConfigError } from './config/config-error.ts';
import { resolveAgentConfig, type AgentFlags } from './config/resolve-config.ts';
import { createLogger } from './logger.ts';
import { runUntilSignal } from './run-until-signal.ts';

/** The agent's flags; `dev` reuses them so both commands accept the same spelling. */
export function addAgentOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'KubeletConfiguration file (kubelet.config.k8s.io/v1beta1); flags override it')
    .option('--kubeconfig <file>', 'kubeconfig for the API server; without it the agent runs static pods alone')
    .option('--bootstrap-kubeconfig <file>', 'when --kubeconfig does not exist yet, get a client certificate by CSR with this kubeconfig (a bootstrap token) and write --kubeconfig')
    .option('--cert-dir <dir>', 'where issued certificates are kept (default <root-dir>/pki)')
    .option('--rotate-certificates [bool]', 'renew the client certificate by CSR before it expires (default false)')
    .option('--rotate-server-certificates [bool]', 'get and renew the node API serving certificate by CSR, signer kubernetes.io/kubelet-serving (default false)')
    .option('--hostname-override <name>', 'node name instead of the hostname')
    .option('--container-runtime-endpoint <endpoint>', 'CRI runtime endpoint (default unix:///run/containerd/containerd.sock)')
    .option('--image-service-endpoint <endpoint>', 'CRI image service endpoint (default: the runtime endpoint)')
    .option('--root-dir <dir>', 'state directory (default /var/lib/mini-kubelet)')
    .option('--pod-manifest-path <dir>', 'directory (or file) of static pod manifests')
    .option('--pod-logs-dir <dir>', 'container log root (default /var/log/pods)')
    .option('--node-labels <k=v,...>', 'labels to add to the Node at registration')
    .option('--register-with-taints <k=v:Effect,...>', 'taints to add to the Node at registration')
    .option('--max-pods <n>', 'pods this node admits at most (default 110)')
    .option('--kube-api-qps <n>', 'requests a second to the API server, watches aside (default 50; 0 = client-go default 5)')
    .option('--kube-api-burst <n>', 'requests that may go at once above --kube-api-qps (default 100; 0 = client-go default 10)')
    .option('--node-ip <ip>', 'the node InternalIP (default: first non-loopback IPv4)')
    .option('--address <ip>', 'bind address of the node API server (default 0.0.0.0)')
    .option('--port <port>', 'node API server port (default 10250; 0 = ephemeral)')
    .option('--healthz-port <port>', 'healthz port on 127.0.0.1 (default 10248; 0 = ephemeral)')
    .option('--allow-privileged', 'admit privileged containers')
    .option('--allowed-unsafe-sysctls <names>', 'comma-separated sysctls or prefixes ending in * that pods may set beyond the safe set (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--v <level>', 'klog-style verbosity (0-10)')
    .option('--log-level <level>', 'pino level: trace, debug, info, warn, error')
    .option('--log-format <format>', 'json or text (one readable line each); default: text when stderr is a terminal, else json')
    .option('--logging-format <format>', 'the kubelet\'s name for --log-format: json or text')
    .option('--network-mode <mode>', 'runtime (the CRI runtime runs CNI) or agent (the agent does)')
    .option('--cni-conf-dir <dir>', 'CNI configuration directory, agent network mode (default /etc/cni/net.d)')
    .option('--cni-bin-dir <dir>', 'CNI plugin directory, agent network mode (default /opt/cni/bin)')
    .option('--cni-network <name>', 'CNI network to use (default: the first conflist)')
    .option('--device-plugin-dir <dir>', 'device plugin socket directory (default <root-dir>/device-plugins)')
    .option('--runtime-request-timeout <duration>', 'timeout of each CRI call (default 2m0s)')
    .option('--tls-cert-file <file>', 'node API serving certificate (PEM, may hold the chain); default: self-signed under <root-dir>/pki')
    .option('--tls-private-key-file <file>', 'key of --tls-cert-file (PEM)')
    .option('--client-ca-file <file>', 'CA bundle: client certificates it signed authenticate to the node API (CN = user, O = groups)')
    .option('--anonymous-auth [bool]', 'requests without credentials are system:anonymous instead of 401 (default false)')
    .option('--authentication-token-webhook [bool]', 'check bearer tokens with a TokenReview on the API server (default true)')
    .option('--authentication-token-webhook-cache-ttl <duration>', 'how long TokenReview answers are cached (default 2m0s)')
    .option('--authorization-mode <mode>', 'Webhook (a SubjectAccessReview per request) or AlwaysAllow (default Webhook)')
    .option('--authorization-webhook-cache-authorized-ttl <duration>', 'how long allowed SubjectAccessReview answers are cached (default 5m0s)')
    .option('--authorization-webhook-cache-unauthorized-ttl <duration>', 'how long denied SubjectAccessReview answers are cached (default 30s)')
    .option('--tracing-endpoint <host:port>', 'send each pod\'s spans to this OTLP/gRPC collector (KubeletConfiguration tracing.endpoint)')
    .option('--pod-timelines [bool]', 'keep recent pods\' spans for the node API\'s timeline views (default true)');
}

export function registerAgentCommand(program: Command): void {
  // Root options are only read before a subcommand's name, so `dev --port` is dev's own.
  program.enablePositionalOptions();
  addAgentOptions(program).action(async (flags: AgentFlags) => {
    let resolved;
    try {
      resolved = resolveAgentConfig(flags);
    } catch (err) {
      if (err instanceof ConfigError) program.error(`error: ${err.message}`, { exitCode: 2, code: 'mini-kubelet.config' });
      throw err;
    }
    const logger = await createLogger(resolved.config.logLevel, { format: resolved.config.logFormat });
    if (resolved.ignoredFileFields.length) logger.warn({ fields: resolved.ignoredFileFields }, 'KubeletConfiguration fields not implemented here are ignored');
    const { startAgent } = await import('./start-agent.ts');
    try {
      await runUntilSignal(logger, () => startAgent(resolved.config, { logger }));
    } catch (err) {
      // A start that cannot go on (TLS bootstrap refused, say) ends with one line that says why.
      logger.fatal({ err }, `the agent could not start: ${(err as Error).message}`);
      process.exit(1);
    }
  });
}

