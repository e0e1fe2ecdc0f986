// `mini-kubelet trace <ns>/<pod>`: a pod's timeline in the terminal. As kubectl would reach a
// kubelet: the pod's spec.nodeName from the API server, then the node's
// /debug/pods/<ns>/<name>/timeline?format=json through the API server's nodes/proxy (so the
// caller needs get on nodes/proxy, as for any kubelet debug path), printed as the terminal
// waterfall. A pod that does not exist, is not scheduled, or has no timeline is a clear
// message and exit code 1.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';

interface TraceFlags {
  kubeconfig?: string;
  namespace?: string;
  width?: string;
  attributes: boolean;
  json?: boolean;
}

/** --kubeconfig, else $KUBECONFIG (its first file), else ~/.kube/config, as kubectl looks. */
export function kubeconfigPath(flag: string | undefined, env = process.env): string | undefined {
  if (flag) return flag;
  const fromEnv = env.KUBECONFIG?.split(':').find(Boolean);
  if (fromEnv) return fromEnv;
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? home : undefined;
}

/** `ns/pod`, or `pod` in --namespace (default "default"). */
export function parsePodArg(arg: string, namespace?: string): { namespace: string; name: string } | string {
  const parts = arg.split('/');
  if (parts.length === 2 && parts[0] && parts[1]) {
    if (namespace && namespace !== parts[0]) return `"${arg}" names namespace ${parts[0]}, but --namespace says ${namespace}`;
    return { namespace: parts[0], name: parts[1] };
  }
  if (parts.length === 1 && parts[0]) return { namespace: namespace ?? 'default', name: parts[0] };
  return `"${arg}" is not <namespace>/<pod> or <pod>`;
}

export class TraceError extends Error {
  override name = 'TraceError';
}

/** The terminal waterfall of one pod's timeline (or its trace-event JSON), or a TraceError saying why not. */
export async function traceOutput(kubeconfigFile: string, namespace: string, name: string, opts: { width?: number; attributes?: boolean; json?: boolean } = {}): Promise<string> {
  const { loadKubeconfigFile } = await import('../agent/api/kubeconfig.ts');
  const { answerMessage, apiGetter, timelineProxyPath } = await import('./api-get.ts');
  const { renderTimelineText } = await import('./views/timeline-text.ts');
  const { timelineFromTraceEvents } = await import('./views/trace-events.ts');
  let kubeConfig;
  try {
    kubeConfig = loadKubeconfigFile(kubeconfigFile);
  } catch (err) {
    throw new TraceError(`cannot read kubeconfig ${kubeconfigFile}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const get = apiGetter(kubeConfig);
  const podAnswer = await get(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`);
  if (podAnswer.status === 404) throw new TraceError(`pod "${namespace}/${name}" not found`);
  if (podAnswer.status !== 200) throw new TraceError(`cannot read pod "${namespace}/${name}": ${answerMessage(podAnswer)}`);
  const node = (JSON.parse(podAnswer.body) as { spec?: { nodeName?: string } }).spec?.nodeName;
  if (!node) throw new TraceError(`pod "${namespace}/${name}" is not scheduled to a node yet (no spec.nodeName): no node has a timeline of it`);
  const answer = await get(timelineProxyPath(node, namespace, name), { format: 'json' });
  if (answer.status === 404) {
    throw new TraceError(`no timeline for pod "${namespace}/${name}" on node "${node}": ${answerMessage(answer).replace(/^no timeline for pod "[^"]*" on node "[^"]*": /, '')}`);
  }
  if (answer.status !== 200) throw new TraceError(`node "${node}" did not give the timeline of "${namespace}/${name}" (HTTP ${answer.status}): ${answerMessage(answer)}`);
  let doc: unknown;
  try {
    doc = JSON.parse(answer.body);
  } catch {
    throw new TraceError(`node "${node}" answered the timeline of "${namespace}/${name}" with something that is not JSON (${answer.contentType || 'no content type'})`);
  }
  if (opts.json) return `${JSON.stringify(doc)}\n`;
  return renderTimelineText(timelineFromTraceEvents(doc), { width: opts.width, attributes: opts.attributes });
}

export function registerTraceCommand(program: Command): void {
  program.command('trace')
    .description("a pod's timeline (its steps through the agent, timed) from its node, through the API server's node proxy")
    .argument('<pod>', '<namespace>/<pod>, or <pod> with --namespace')
    .option('--kubeconfig <file>', 'kubeconfig for the API server (default: $KUBECONFIG, then ~/.kube/config)')
    .option('-n, --namespace <ns>', 'the namespace of a pod given without one (default "default")')
    .option('--width <columns>', 'line width (default: the terminal\'s, else 100)')
    .option('--no-attributes', "leave out each step's attributes")
    .option('--json', 'print the trace-event JSON instead (open it in ui.perfetto.dev)')
    .action(async (podArg: string, flags: TraceFlags) => {
      const fail = (message: string) => {
        process.stderr.write(`error: ${message}\n`);
        process.exitCode = 1;
      };
      const pod = parsePodArg(podArg, flags.namespace);
      if (typeof pod === 'string') return fail(pod);
      const file = kubeconfigPath(flags.kubeconfig);
      if (!file) return fail('no kubeconfig: pass --kubeconfig or set KUBECONFIG');
      const width = flags.width ? Number(flags.width) : process.stdout.columns || 100;
      if (!Number.isInteger(width) || width < 60) return fail(`--width ${flags.width}: a whole number of columns, at least 60`);
      try {
        process.stdout.write(await traceOutput(file, pod.namespace, pod.name, { width, attributes: flags.attributes, json: flags.json }));
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err));
      }
    });
}
