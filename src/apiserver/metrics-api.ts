// metrics.k8s.io/v1beta1 (NodeMetrics, PodMetrics), what `kubectl top` reads, computed the way
// metrics-server computes it: each node's /metrics/resource is scraped through the KubeletClient
// (this server's client certificate, nodes/metrics on the node), the two latest scrapes per node
// are kept, CPU is the rate of the cumulative core-seconds between them (window = the time
// between their samples) and memory is the latest working set. A container started after the
// older scrape counts from its start time with zero CPU, as metrics-server treats new containers.
//
// Scrapes happen on demand, not on a timer: a request finds scrapes younger than the resolution
// (1 s) and uses them, or scrapes again. With only one scrape kept (a node's first request, or
// scrapes older than the longest window), it scrapes twice, one resolution apart, so the first
// `kubectl top` answers instead of "metrics not available yet".
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { goDuration } from '../probe/go-text.ts';
import { badRequest, methodNotAllowed, notFound } from './errors.ts';
import { sendJson } from './http-io.ts';
import type { KubeletClient } from './node-proxy.ts';
import { resourceKey, resourceTypes } from './registry.ts';
import type { ResourceRoute } from './routes.ts';
import { matchesLabels, parseLabelSelector } from './selectors.ts';
import type { KubeObject, ObjectStore } from './store.ts';

export const metricsGroup = 'metrics.k8s.io';
const metricsApiVersion = `${metricsGroup}/v1beta1`;

// ---------------------------------------------------------------------------------------
// Reading a scrape

export interface Sample { value: number; timestampMs: number }
export interface ContainerPoint { namespace: string; pod: string; container: string; cpu?: Sample; memory?: Sample; startTimeMs?: number }
export interface Scrape { atMs: number; node: { cpu?: Sample; memory?: Sample }; containers: ContainerPoint[] }

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const m of text.matchAll(re)) labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  return labels;
}

/** The figures of a /metrics/resource exposition. Samples without a timestamp get `atMs`. */
export function parseResourceMetrics(text: string, atMs: number): Scrape {
  const scrape: Scrape = { atMs, node: {}, containers: [] };
  const containers = new Map<string, ContainerPoint>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(line);
    if (!m) continue;
    const [, name, labelText, valueText, tsText] = m;
    const value = Number(valueText);
    if (!Number.isFinite(value)) continue;
    const sample: Sample = { value, timestampMs: tsText !== undefined ? Number(tsText) : atMs };
    if (name === 'node_cpu_usage_seconds_total') scrape.node.cpu = sample;
    else if (name === 'node_memory_working_set_bytes') scrape.node.memory = sample;
    else if (name === 'container_cpu_usage_seconds_total' || name === 'container_memory_working_set_bytes' || name === 'container_start_time_seconds') {
      const l = parseLabels(labelText ?? '');
      if (!l.namespace || !l.pod || !l.container) continue;
      const key = `${l.namespace}/${l.pod}/${l.container}`;
      const point = containers.get(key) ?? { namespace: l.namespace, pod: l.pod, container: l.container };
      if (name === 'container_cpu_usage_seconds_total') point.cpu = sample;
      else if (name === 'container_memory_working_set_bytes') point.memory = sample;
      else point.startTimeMs = value * 1000;
      containers.set(key, point);
    }
  }
  scrape.containers = [...containers.values()];
  return scrape;
}

// ---------------------------------------------------------------------------------------
// Usage between two scrapes

export interface Usage { timestampMs: number; windowMs: number; nanoCores: number; memoryBytes: number }

/** CPU rate between two cumulative samples, and the latest memory; undefined when they do not make one
 * (missing, out of order, or a counter that went backwards: a restarted container). */
export function usageBetween(prev: Sample | undefined, cur: Sample | undefined, memory: Sample | undefined): Usage | undefined {
  if (!prev || !cur || !memory) return undefined;
  const windowMs = cur.timestampMs - prev.timestampMs;
  if (windowMs <= 0 || cur.value < prev.value) return undefined;
  return { timestampMs: cur.timestampMs, windowMs, nanoCores: Math.round(((cur.value - prev.value) / (windowMs / 1000)) * 1e9), memoryBytes: memory.value };
}

export function nodeUsage(prev: Scrape, cur: Scrape): Usage | undefined {
  return usageBetween(prev.node.cpu, cur.node.cpu, cur.node.memory);
}

/** One container's usage; a container that started after the older scrape counts from its start, with zero CPU then. */
export function containerUsage(prev: Scrape, cur: Scrape, namespace: string, pod: string, container: string): Usage | undefined {
  const find = (s: Scrape) => s.containers.find((c) => c.namespace === namespace && c.pod === pod && c.container === container);
  const now = find(cur);
  if (!now?.cpu) return undefined;
  let before = find(prev)?.cpu;
  // Started (or restarted) after the older scrape: its CPU counts from its start, at zero.
  if (now.startTimeMs !== undefined && now.startTimeMs > (prev.node.cpu?.timestampMs ?? prev.atMs)) before = { value: 0, timestampMs: now.startTimeMs };
  return usageBetween(before, now.cpu, now.memory);
}

// ---------------------------------------------------------------------------------------
// Quantities as metrics-server writes them

/** CPU in nano-cores as a Quantity: "123456n", "5m", "2". */
export function cpuQuantity(nanoCores: number): string {
  const n = Math.max(0, Math.round(nanoCores));
  if (n === 0) return '0';
  if (n % 1e9 === 0) return String(n / 1e9);
  if (n % 1e6 === 0) return `${n / 1e6}m`;
  if (n % 1e3 === 0) return `${n / 1e3}u`;
  return `${n}n`;
}

/** Bytes as a binary Quantity: the largest suffix that keeps it whole ("12345Ki", "64Mi", "1000"). */
export function memoryQuantity(bytes: number): string {
  let n = Math.max(0, Math.round(bytes));
  if (n === 0) return '0';
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let i = 0;
  while (i < suffixes.length - 1 && n % 1024 === 0) {
    n /= 1024;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

// ---------------------------------------------------------------------------------------
// Serving

const nodeKey = resourceKey(resourceTypes.find((t) => t.plural === 'nodes' && !t.group)!);
const podKey = resourceKey(resourceTypes.find((t) => t.plural === 'pods' && !t.group)!);

export interface MetricsApiOptions {
  resolutionMs?: number;
  /** Scrapes further apart than this make no window: two fresh ones are taken. Default 60 s. */
  maxWindowMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface NodeScrapes { prev?: Scrape; last?: Scrape; inflight?: Promise<void> }

export class MetricsApi {
  private readonly nodes = new Map<string, NodeScrapes>();
  private readonly resolutionMs: number;
  private readonly maxWindowMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly store: ObjectStore, private readonly kubelets: Pick<KubeletClient, 'get'>, private readonly log: Logger, opts: MetricsApiOptions = {}) {
    this.resolutionMs = opts.resolutionMs ?? 1000;
    this.maxWindowMs = opts.maxWindowMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private async scrapeOnce(name: string, s: NodeScrapes): Promise<void> {
    const node = this.store.get(nodeKey, '', name);
    const atMs = this.now();
    try {
      const answer = await this.kubelets.get(node, name, '/metrics/resource');
      if (answer.status !== 200) throw new Error(`the node answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      const scrape = parseResourceMetrics(answer.body, atMs);
      if (s.last && atMs - s.last.atMs > this.maxWindowMs) s.prev = undefined;
      else if (s.last) s.prev = s.last;
      s.last = scrape;
    } catch (err) {
      this.log.info({ node: name, err: err instanceof Error ? err.message : String(err) }, 'metrics: scraping the node failed');
    }
  }

  private refresh(name: string, s: NodeScrapes): Promise<void> {
    s.inflight ??= this.scrapeOnce(name, s).finally(() => (s.inflight = undefined));
    return s.inflight;
  }

  /** The two scrapes a rate is taken between, refreshed as the resolution allows; undefined when the node cannot be scraped. */
  async scrapesOf(name: string): Promise<[Scrape, Scrape] | undefined> {
    let s = this.nodes.get(name);
    if (!s) this.nodes.set(name, (s = {}));
    if (!s.last || this.now() - s.last.atMs >= this.resolutionMs) await this.refresh(name, s);
    if (s.last && !s.prev) {
      await this.sleep(Math.max(0, this.resolutionMs - (this.now() - s.last.atMs)));
      await this.refresh(name, s);
    }
    return s.prev && s.last ? [s.prev, s.last] : undefined;
  }

  private nodeMetrics(node: KubeObject, scrapes: [Scrape, Scrape] | undefined) {
    const usage = scrapes && nodeUsage(scrapes[0], scrapes[1]);
    if (!usage) return undefined;
    return {
      metadata: { name: node.metadata.name, creationTimestamp: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(node.metadata.labels ? { labels: node.metadata.labels } : {}) },
      timestamp: new Date(usage.timestampMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      window: goDuration(usage.windowMs),
      usage: { cpu: cpuQuantity(usage.nanoCores), memory: memoryQuantity(usage.memoryBytes) },
    };
  }

  private podMetrics(pod: KubeObject, scrapes: [Scrape, Scrape] | undefined) {
    if (!scrapes) return undefined;
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name;
    const containers: Array<{ name: string; usage: { cpu: string; memory: string } }> = [];
    let first: Usage | undefined;
    for (const c of (pod.spec?.containers ?? []) as Array<{ name: string }>) {
      const usage = containerUsage(scrapes[0], scrapes[1], ns, name, c.name);
      if (!usage) continue;
      first ??= usage;
      containers.push({ name: c.name, usage: { cpu: cpuQuantity(usage.nanoCores), memory: memoryQuantity(usage.memoryBytes) } });
    }
    if (!first) return undefined;
    return {
      metadata: { name, namespace: ns, creationTimestamp: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}) },
      timestamp: new Date(first.timestampMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      window: goDuration(first.windowMs),
      containers,
    };
  }

  async handle(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, query: URLSearchParams): Promise<void> {
    if ((req.method ?? 'GET') !== 'GET') throw methodNotAllowed();
    if (route.subresource) throw badRequest(`${route.type.plural} has no subresource ${route.subresource}`);
    if (query.get('watch') === 'true' || query.get('watch') === '1') throw methodNotAllowed();
    const selector = parseLabelSelector(query.get('labelSelector'));
    const listMeta = { resourceVersion: '' };
    if (route.type.plural === 'nodes') {
      const nodes = route.name !== undefined
        ? [this.store.get(nodeKey, '', route.name)].filter((n): n is KubeObject => !!n)
        : this.store.list(nodeKey).filter((n) => matchesLabels(selector, n.metadata.labels));
      const items = (await Promise.all(nodes.map(async (n) => this.nodeMetrics(n, await this.scrapesOf(n.metadata.name))))).filter((m) => m !== undefined);
      if (route.name !== undefined) {
        if (!items[0]) throw notFound('nodes', metricsGroup, route.name);
        return sendJson(res, 200, { kind: 'NodeMetrics', apiVersion: metricsApiVersion, ...items[0] });
      }
      return sendJson(res, 200, { kind: 'NodeMetricsList', apiVersion: metricsApiVersion, metadata: listMeta, items });
    }
    const pods = (route.name !== undefined
      ? [this.store.get(podKey, route.namespace ?? '', route.name)].filter((p): p is KubeObject => !!p)
      : this.store.list(podKey, route.namespace).filter((p) => matchesLabels(selector, p.metadata.labels)))
      .filter((p) => p.spec?.nodeName && !['Succeeded', 'Failed'].includes(p.status?.phase));
    const nodeNames = [...new Set(pods.map((p) => String(p.spec.nodeName)))];
    const scrapes = new Map(await Promise.all(nodeNames.map(async (n) => [n, await this.scrapesOf(n)] as const)));
    const items = pods.map((p) => this.podMetrics(p, scrapes.get(String(p.spec.nodeName)))).filter((m) => m !== undefined);
    if (route.name !== undefined) {
      if (!items[0]) throw notFound('pods', metricsGroup, route.name);
      return sendJson(res, 200, { kind: 'PodMetrics', apiVersion: metricsApiVersion, ...items[0] });
    }
    return sendJson(res, 200, { kind: 'PodMetricsList', apiVersion: metricsApiVersion, metadata: listMeta, items });
  }
}
