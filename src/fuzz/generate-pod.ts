// The pod specs the fuzzer sends. Spec I of seed S comes from its own PRNG stream (specSeed),
// so it can be rebuilt alone. Most specs are ones kube-apiserver accepts, drawn from valid
// and edge-case values; some carry one mutation kube-apiserver refuses (expect: 'refuse').
import { Rng, specSeed } from './prng.ts';

export interface FuzzImages {
  /** Images the runtime can pull. */
  good: string[];
  /** Well-formed references that cannot be pulled. */
  missing: string[];
}

export interface GenContext {
  nodeName: string;
  images: FuzzImages;
  /** Host ports are drawn from [hostPortBase, hostPortBase + 4], so pods in flight conflict. */
  hostPortBase: number;
  /** A ConfigMap and a Secret that exist (the runner creates them), key "key". */
  configMap: string;
  secret: string;
  /** A RuntimeClass whose handler the runtime does not have. */
  bogusRuntimeClass: string;
  /** Label set on every pod, to list the run's pods. */
  runLabel: [string, string];
}

export interface FuzzCase {
  index: number;
  name: string;
  /** The pod as JSON, sent as is (unknown fields included). */
  pod: Record<string, any>;
  expect: 'accept' | 'refuse';
  /** The refusal this spec carries (expect: 'refuse'). */
  mutation?: string;
  /** ?fieldValidation=Strict on the create. */
  strict?: boolean;
  /** Edge cases drawn, for the report. */
  features: string[];
}

type Json = Record<string, any>;

/** A clean pod draws no field meant to fail (missing images and objects, failing commands and
 * probes, unfit resources): it should end Running and Ready, or Succeeded, so that enough pods go
 * the whole way (start, run, stop, delete). Set per spec by generateCase; generation is synchronous. */
let cleanPod = false;
/** A failure feature's weight or probability: 0 in a clean pod. */
const bad = (p: number) => (cleanPod ? 0 : p);

const alnum = 'abcdefghijklmnopqrstuvwxyz0123456789';
const unicode = ['ünïcødé', '日本語のテキスト', 'emoji 🚀🔥✨', 'Ελληνικά', 'עברית', 'mixed \u00e9\u0301 combining', '\u2028line\u2029sep', 'tab\there'];

/** A DNS label of exactly `length` characters, starting with `prefix`. */
function label(rng: Rng, prefix: string, length: number): string {
  const start = prefix || rng.string(1, alnum);
  const body = start + rng.string(Math.max(0, length - start.length - 1), alnum + '-');
  return (body + rng.string(1, alnum)).slice(0, length).replace(/-$/, 'x');
}

function podName(rng: Rng, index: number, features: string[]): string {
  const base = `fz${index}`;
  switch (rng.weighted([['plain', 6], ['label63', 1], ['dotted253', 1], ['dashes', 1]] as const)) {
    case 'label63':
      features.push('name-63');
      return label(rng, `${base}-`, 63);
    case 'dotted253': {
      features.push('name-253-dotted');
      let name = base;
      while (name.length < 253) name += `.${label(rng, '', Math.min(63, 253 - name.length - 1))}`;
      return name.slice(0, 253).replace(/[.-]+$/, '');
    }
    case 'dashes':
      features.push('name-dashes');
      return `${base}--a---b-c`;
    default:
      return `${base}-${rng.string(rng.int(1, 8))}`;
  }
}

const QUANTITY_CPU = ['1m', '1e-3', '5m', '10m', '0.01', '25m', '50m', '0.1'];
const QUANTITY_MEM = ['1e3', '1k', '1Ki', '1e6', '4Mi', '64Mi', '100Mi', '129e6', '0.5Gi', '1Gi'];

function resources(rng: Rng, features: string[]): Json | undefined {
  if (!rng.chance(0.3)) return undefined;
  const out: Json = {};
  const pair = (list: string[]) => {
    const i = rng.int(0, list.length - 1);
    const j = rng.int(i, list.length - 1);
    return [list[i]!, list[j]!] as const;
  };
  const [cpuReq, cpuLim] = pair(QUANTITY_CPU);
  const [memReq, memLim] = pair(QUANTITY_MEM);
  if (rng.chance(0.8)) (out.requests ??= {}).cpu = cpuReq;
  if (rng.chance(0.6)) (out.requests ??= {}).memory = memReq;
  if (rng.chance(0.5)) (out.limits ??= {}).cpu = cpuLim;
  if (rng.chance(0.5)) (out.limits ??= {}).memory = memLim;
  if (rng.chance(0.1)) (out.requests ??= {})['ephemeral-storage'] = '1Gi';
  if (out.limits?.memory === '1e3' || out.limits?.memory === '1k') features.push('tiny-memory-limit');
  if (rng.chance(bad(0.02))) {
    features.push('cpu-1e3');
    out.requests = { ...out.requests, cpu: '1e3' };
    if (out.limits?.cpu) out.limits.cpu = '1e3';
  }
  if (rng.chance(bad(0.01))) {
    features.push('memory-1e15');
    out.requests = { ...out.requests, memory: '1e15' };
    if (out.limits?.memory) out.limits.memory = '1e15';
  }
  return out;
}

function envVars(rng: Rng, ctx: GenContext, features: string[]): { env?: Json[]; envFrom?: Json[] } {
  const env: Json[] = [];
  const kind = rng.weighted([['none', 4], ['few', 6], ['thousands', 1], ['big-values', 1]] as const);
  const n = kind === 'few' ? rng.int(1, 6) : kind === 'thousands' ? rng.int(1000, 4000) : kind === 'big-values' ? rng.int(5, 40) : 0;
  if (kind === 'thousands') features.push('env-thousands');
  if (kind === 'big-values') features.push('env-big-values');
  for (let i = 0; i < n; i++) {
    const name = `V${i}_${rng.string(3, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_')}`;
    if (kind === 'big-values') env.push({ name, value: rng.string(rng.int(1024, 16384)) });
    else if (kind === 'thousands') env.push({ name, value: rng.string(rng.int(0, 24)) });
    else {
      switch (rng.weighted([['value', 5], ['unicode', 1], ['ref', 1], ['field', 1], ['resource', 1], ['cm', 1], ['secret', 1]] as const)) {
        case 'unicode': env.push({ name, value: rng.pick(unicode) }); break;
        case 'ref': env.push({ name, value: `$(V0_X)-$(POD_NAME)-$$(ESCAPED)-$(MISSING_VAR)` }); break;
        case 'field': env.push({ name, valueFrom: { fieldRef: { fieldPath: rng.pick(['metadata.name', 'metadata.namespace', 'metadata.uid', 'status.podIP', 'spec.nodeName', 'status.hostIP', 'spec.serviceAccountName']) } } }); break;
        case 'resource': env.push({ name, valueFrom: { resourceFieldRef: { resource: rng.pick(['limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']) } } }); break;
        case 'cm': {
          const exists = cleanPod || rng.chance(0.5);
          const optional = rng.chance(0.5) ? rng.chance(0.5) : undefined;
          if (!exists && !optional) features.push('env-missing-configmap');
          env.push({ name, valueFrom: { configMapKeyRef: { name: exists ? ctx.configMap : 'fuzz-no-such-cm', key: rng.chance(0.8) ? 'key' : 'nokey', ...(optional === undefined ? {} : { optional }) } } });
          break;
        }
        case 'secret': {
          const exists = cleanPod || rng.chance(0.5);
          const optional = rng.chance(0.5) ? rng.chance(0.5) : undefined;
          if (!exists && !optional) features.push('env-missing-secret');
          env.push({ name, valueFrom: { secretKeyRef: { name: exists ? ctx.secret : 'fuzz-no-such-secret', key: 'key', ...(optional === undefined ? {} : { optional }) } } });
          break;
        }
        default: env.push({ name, value: rng.string(rng.int(0, 40)) });
      }
    }
  }
  const envFrom: Json[] = [];
  if (rng.chance(0.08)) {
    const exists = cleanPod || rng.chance(0.5);
    envFrom.push({ prefix: rng.chance(0.5) ? 'CM_' : undefined, configMapRef: { name: exists ? ctx.configMap : 'fuzz-no-such-cm', ...(rng.chance(0.5) ? { optional: rng.chance(0.5) } : {}) } });
    features.push(exists ? 'envfrom-configmap' : 'envfrom-missing-configmap');
  }
  return { ...(env.length ? { env } : {}), ...(envFrom.length ? { envFrom } : {}) };
}

function command(rng: Rng, role: 'main' | 'init' | 'sidecar', features: string[]): Json {
  const runs = { command: ['sleep', '3600'] };
  if (role === 'sidecar') return rng.chance(1 - bad(0.1)) ? runs : { command: ['sh', '-c', 'exit 1'] };
  if (role === 'init') {
    return rng.weighted([[{ command: ['true'] }, 5], [{ command: ['sh', '-c', 'exit 0'] }, 3], [{ command: ['false'] }, bad(1)], [{ command: ['sh', '-c', 'echo init; sleep 1'] }, 1], [runs, bad(0.3)]] as const);
  }
  const c = rng.weighted([
    ['sleep', 8], ['exit0', bad(2)], ['exit1', bad(2)], ['true', bad(1)], ['false', bad(1)], ['echo-exit', bad(1)], ['short-sleep', bad(1)], ['trap', 1], ['entrypoint', bad(0.5)], ['args', 1],
  ] as const);
  if (c !== 'sleep') features.push(`cmd-${c}`);
  switch (c) {
    case 'exit0': return { command: ['sh', '-c', 'exit 0'] };
    case 'exit1': return { command: ['sh', '-c', 'exit 1'] };
    case 'true': return { command: ['true'] };
    case 'false': return { command: ['false'] };
    case 'echo-exit': return { command: ['sh', '-c', `echo "hello $(POD_NAME)"; sleep 1; exit ${rng.pick([0, 2, 3, 255, 300])}`] };
    case 'short-sleep': return { command: ['sleep', String(rng.int(1, 3))] };
    case 'trap': return { command: ['sh', '-c', 'trap "" TERM; sleep 3600'] };
    case 'entrypoint': return {};
    case 'args': return { command: ['sleep'], args: ['3600'] };
    default: return runs;
  }
}

function probe(rng: Rng, kind: 'liveness' | 'readiness' | 'startup'): Json {
  const handler = rng.weighted([
    [{ exec: { command: ['true'] } }, 4], [{ exec: { command: ['false'] } }, bad(1)], [{ exec: { command: ['cat', '/tmp/healthy'] } }, bad(1)],
    [{ httpGet: { path: '/healthz', port: 8080 } }, bad(1)], [{ httpGet: { path: '/', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X-Fuzz', value: 'ü' }] } }, bad(0.5)],
    [{ tcpSocket: { port: 8080 } }, bad(1)], [{ grpc: { port: 50051 } }, bad(0.3)],
  ] as const);
  return {
    ...structuredClone(handler),
    initialDelaySeconds: rng.int(0, 1),
    periodSeconds: rng.int(1, 2),
    timeoutSeconds: 1,
    failureThreshold: rng.int(1, 3),
    ...(kind === 'readiness' ? { successThreshold: rng.int(1, 2) } : {}),
  };
}

function securityContext(rng: Rng, features: string[]): Json | undefined {
  if (!rng.chance(0.2)) return undefined;
  const sc: Json = {};
  if (rng.chance(0.3)) sc.runAsUser = rng.pick([0, 1000, 65534, 2147483647]);
  if (rng.chance(bad(0.2))) { sc.runAsNonRoot = true; features.push('run-as-non-root'); }
  if (rng.chance(0.3)) sc.readOnlyRootFilesystem = true;
  if (rng.chance(0.3)) sc.allowPrivilegeEscalation = false;
  if (rng.chance(0.3)) sc.capabilities = { drop: ['ALL'], ...(rng.chance(0.3) ? { add: ['NET_BIND_SERVICE'] } : {}) };
  if (rng.chance(bad(0.05))) { sc.privileged = true; sc.allowPrivilegeEscalation = undefined; features.push('privileged'); }
  if (rng.chance(0.2)) sc.seccompProfile = { type: rng.pick(['RuntimeDefault', 'Unconfined']) };
  return JSON.parse(JSON.stringify(sc));
}

interface VolumeDraw { volumes: Json[]; mounts: Json[] }

function volumes(rng: Rng, ctx: GenContext, features: string[]): VolumeDraw {
  const out: VolumeDraw = { volumes: [], mounts: [] };
  const n = rng.weighted([[0, 5], [1, 3], [2, 2], [4, 1]] as const);
  for (let i = 0; i < n; i++) {
    const name = `vol-${i}`;
    const kind = rng.weighted([['emptyDir', 3], ['memory', 1], ['cm', 1], ['cm-missing', bad(1)], ['secret', 1], ['secret-missing', bad(1)], ['downward', 1], ['projected', 1]] as const);
    let source: Json;
    switch (kind) {
      case 'memory': source = { emptyDir: { medium: 'Memory', sizeLimit: rng.pick(['1Mi', '64Mi', '1e6']) } }; break;
      case 'cm': source = { configMap: { name: ctx.configMap, ...(rng.chance(0.3) ? { items: [{ key: 'key', path: 'sub/dir/key' }] } : {}) } }; break;
      case 'cm-missing': {
        const optional = rng.chance(0.4);
        if (!optional) features.push('volume-missing-configmap');
        source = { configMap: { name: 'fuzz-no-such-cm', optional } };
        break;
      }
      case 'secret': source = { secret: { secretName: ctx.secret, defaultMode: 0o400 } }; break;
      case 'secret-missing': {
        const optional = rng.chance(0.4);
        if (!optional) features.push('volume-missing-secret');
        source = { secret: { secretName: 'fuzz-no-such-secret', optional } };
        break;
      }
      case 'downward': source = { downwardAPI: { items: [
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
      ] } }; break;
      case 'projected': source = { projected: { sources: [
        { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
        { configMap: { name: rng.chance(0.5) ? ctx.configMap : 'fuzz-no-such-cm', optional: true } },
      ] } }; break;
      default: source = { emptyDir: {} };
    }
    if (kind !== 'emptyDir') features.push(`volume-${kind}`);
    out.volumes.push({ name, ...source });
    if (rng.chance(0.85)) out.mounts.push({ name, mountPath: `/data/${name}`, ...(rng.chance(0.2) ? { readOnly: true } : {}) });
  }
  return out;
}

interface PortPlan { hostNetwork: boolean; usedHostPorts: Set<string> }

function ports(rng: Rng, ctx: GenContext, plan: PortPlan, features: string[]): Json[] | undefined {
  if (!rng.chance(0.35)) return undefined;
  const out: Json[] = [];
  const n = rng.int(1, 3);
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const containerPort = rng.pick([80, 8080, 443, 53, 9090, 65535, 1]);
    if (seen.has(containerPort)) continue;
    seen.add(containerPort);
    const protocol = rng.weighted([['TCP', 6], ['UDP', 2], ['SCTP', 1]] as const);
    const p: Json = { containerPort, protocol, ...(i === 0 && rng.chance(0.5) ? { name: 'http' } : {}) };
    if (plan.hostNetwork) p.hostPort = containerPort;
    else if (rng.chance(bad(0.1))) p.hostPort = ctx.hostPortBase + rng.int(0, 4);
    if (p.hostPort) {
      const key = `${p.hostPort}/${protocol}`;
      if (plan.usedHostPorts.has(key)) continue; // a duplicate in the pod is a refusal, drawn elsewhere
      plan.usedHostPorts.add(key);
      features.push('host-port');
      if (rng.chance(0.2)) p.hostIP = '127.0.0.1';
    }
    out.push(p);
  }
  return out.length ? out : undefined;
}

function container(rng: Rng, ctx: GenContext, name: string, role: 'main' | 'init' | 'sidecar', vols: VolumeDraw, plan: PortPlan, features: string[]): Json {
  const image = rng.weighted([['good', 20], ['missing', bad(1)], ['invalid', bad(0.3)], ['digest', bad(0.5)]] as const);
  const c: Json = { name, ...command(rng, role, features) };
  switch (image) {
    case 'missing': c.image = rng.pick(ctx.images.missing); features.push('image-missing'); break;
    case 'invalid': c.image = rng.pick(['UPPERCASE/Image:1', 'busybox:bad:tag', 'busybox@sha256:nothex']); features.push('image-invalid'); break;
    case 'digest': c.image = `${rng.pick(ctx.images.missing)}@sha256:${rng.string(64, '0123456789abcdef')}`; features.push('image-digest-missing'); break;
    default: c.image = rng.pick(ctx.images.good);
  }
  if (rng.chance(0.15)) {
    c.imagePullPolicy = rng.pick(cleanPod ? ['Always', 'IfNotPresent'] : ['Always', 'IfNotPresent', 'Never']);
    if (c.imagePullPolicy === 'Never') features.push('pull-never');
  }
  Object.assign(c, envVars(rng, ctx, features));
  const r = resources(rng, features);
  if (r) c.resources = r;
  const sc = securityContext(rng, features);
  if (sc) c.securityContext = sc;
  const p = ports(rng, ctx, plan, features);
  if (p) c.ports = p;
  const mounts = vols.mounts.filter(() => rng.chance(0.7));
  if (mounts.length) c.volumeMounts = structuredClone(mounts);
  if (role !== 'init') {
    if (rng.chance(0.15)) { c.readinessProbe = probe(rng, 'readiness'); features.push('readiness'); }
    if (rng.chance(0.1)) { c.livenessProbe = probe(rng, 'liveness'); features.push('liveness'); }
    if (rng.chance(0.05)) { c.startupProbe = probe(rng, 'startup'); features.push('startup'); }
  }
  if (role === 'sidecar') c.restartPolicy = 'Always';
  if (role !== 'init' && rng.chance(0.05)) {
    c.lifecycle = { postStart: { exec: { command: [cleanPod ? 'true' : rng.pick(['true', 'false'])] } }, preStop: { exec: { command: ['true'] } } };
    features.push('lifecycle');
  }
  if (rng.chance(0.05)) { c.stdin = true; c.tty = rng.chance(0.5); }
  if (rng.chance(0.05)) c.terminationMessagePolicy = 'FallbackToLogsOnError';
  if (rng.chance(0.05)) c.workingDir = cleanPod ? '/tmp' : '/tmp/does/not/exist';
  return c;
}

/** A spec kube-apiserver accepts. */
function validPod(rng: Rng, ctx: GenContext, index: number, features: string[]): Json {
  const name = podName(rng, index, features);
  const hostNetwork = rng.chance(0.05);
  if (hostNetwork) features.push('host-network');
  const plan: PortPlan = { hostNetwork, usedHostPorts: new Set() };
  const vols = volumes(rng, ctx, features);
  const nContainers = rng.weighted([[1, 12], [2, 5], [3, 2], [rng.int(5, 12), 1], [rng.int(20, 30), 0.2]] as const);
  const nInit = rng.weighted([[0, 12], [1, 4], [2, 2], [rng.int(4, 8), 0.5]] as const);
  const nSidecar = rng.weighted([[0, 10], [1, 2], [2, 0.5]] as const);
  if (nContainers >= 5) features.push('many-containers');
  if (nInit >= 4) features.push('many-init');
  if (nSidecar) features.push('sidecar');
  const initContainers: Json[] = [];
  // Sidecars and regular init containers interleave: a sidecar starts before the steps after it.
  for (let i = 0; i < nInit + nSidecar; i++) {
    const sidecar = i < nSidecar && rng.chance(0.5) ? true : i >= nInit;
    initContainers.push(container(rng, ctx, `${sidecar ? 'side' : 'init'}-${i}`, sidecar ? 'sidecar' : 'init', vols, plan, features));
  }
  const containers = Array.from({ length: nContainers }, (_, i) => container(rng, ctx, i === 0 ? 'app' : `c${i}-${rng.string(4)}`, 'main', vols, plan, features));
  const metadata: Json = { name, labels: { [ctx.runLabel[0]]: ctx.runLabel[1] } };
  if (rng.chance(0.3)) {
    metadata.labels[`example.com/${label(rng, 'k', rng.int(1, 63))}`] = label(rng, 'v', rng.int(1, 63));
    features.push('labels');
  }
  if (rng.chance(0.3)) {
    metadata.annotations = { 'fuzz.example.com/unicode': rng.pick(unicode), 'empty': '' };
    if (rng.chance(0.2)) metadata.annotations['fuzz.example.com/big'] = rng.string(rng.int(10_000, 100_000));
    features.push('annotations');
  }
  const spec: Json = {
    nodeName: ctx.nodeName,
    containers,
    ...(initContainers.length ? { initContainers } : {}),
    ...(vols.volumes.length ? { volumes: vols.volumes } : {}),
    restartPolicy: rng.weighted([['Always', 4], ['OnFailure', 2], ['Never', 2], [undefined, 1]] as const),
    terminationGracePeriodSeconds: rng.weighted([[0, 2], [1, 3], [2, 1], [3, 1]] as const),
  };
  if (spec.restartPolicy === undefined) delete spec.restartPolicy;
  if (hostNetwork) spec.hostNetwork = true;
  if (rng.chance(bad(0.1))) { spec.activeDeadlineSeconds = rng.int(1, 5); features.push('active-deadline'); }
  if (rng.chance(0.1)) { spec.hostname = label(rng, 'h', rng.chance(0.5) ? 63 : rng.int(1, 20)); features.push('hostname'); }
  if (rng.chance(0.1)) { spec.subdomain = label(rng, 's', rng.chance(0.5) ? 63 : rng.int(1, 20)); features.push('subdomain'); }
  if (rng.chance(0.05)) spec.setHostnameAsFQDN = true;
  if (rng.chance(0.1)) {
    spec.securityContext = JSON.parse(JSON.stringify({
      runAsUser: rng.chance(0.5) ? rng.pick([0, 1000]) : undefined,
      runAsGroup: rng.chance(0.3) ? 3000 : undefined,
      fsGroup: rng.chance(0.3) ? 2000 : undefined,
      supplementalGroups: rng.chance(0.2) ? [4000, 5000] : undefined,
      runAsNonRoot: rng.chance(0.2) ? true : undefined,
    }));
    features.push('pod-security-context');
  }
  if (rng.chance(0.08)) {
    const sysctl = rng.weighted([
      [{ name: 'kernel.shm_rmid_forced', value: '1' }, 2], [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' }, 2],
      [{ name: 'kernel.msgmax', value: '65536' }, bad(1)], [{ name: 'net.core.somaxconn', value: '1024' }, 1], [{ name: 'vm.swappiness', value: '10' }, bad(1)],
    ] as const);
    if (!(hostNetwork && sysctl.name.startsWith('net.'))) {
      (spec.securityContext ??= {}).sysctls = [{ ...sysctl }];
      features.push(`sysctl-${sysctl.name}`);
    }
  }
  if (rng.chance(bad(0.05))) { spec.runtimeClassName = ctx.bogusRuntimeClass; features.push('runtime-class-unknown-handler'); }
  if (rng.chance(bad(0.03))) { spec.nodeSelector = { 'fuzz.example.com/no-such-label': 'x' }; features.push('node-selector-mismatch'); }
  if (rng.chance(bad(0.03))) { spec.os = { name: 'windows' }; features.push('os-windows'); }
  if (rng.chance(0.05)) { spec.dnsPolicy = 'None'; spec.dnsConfig = { nameservers: ['1.1.1.1'], searches: ['a.example.com'], options: [{ name: 'ndots', value: '2' }] }; features.push('dns-none'); }
  else if (rng.chance(0.05)) spec.dnsPolicy = rng.pick(['Default', 'ClusterFirstWithHostNet', 'ClusterFirst']);
  if (rng.chance(0.05)) spec.shareProcessNamespace = true;
  if (rng.chance(0.05)) spec.enableServiceLinks = false;
  if (rng.chance(0.05)) spec.automountServiceAccountToken = false;
  if (rng.chance(0.05)) spec.hostAliases = [{ ip: '10.1.2.3', hostnames: ['fuzz.example', 'ünï.example'.normalize('NFC').replace(/[^\x00-\x7f]/g, 'x')] }];
  if (rng.chance(0.05)) spec.tolerations = [{ key: 'fuzz', operator: 'Exists', effect: 'NoSchedule' }];
  if (rng.chance(0.05)) {
    // Fields the Pod type does not have: the API drops them (fieldValidation Warn, its default).
    spec.fuzzUnknownField = { nested: true };
    containers[0]!.notAContainerField = 'x';
    features.push('unknown-fields-dropped');
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/** One mutation kube-apiserver refuses (400, 403 or 422), applied to a valid spec. */
const REFUSALS: Array<[string, (pod: Json, rng: Rng, ctx: GenContext) => void | { strict: true }]> = [
  ['no-containers', (p) => { p.spec.containers = []; }],
  ['duplicate-container-name', (p) => { p.spec.containers.push({ ...structuredClone(p.spec.containers[0]), ports: undefined }); }],
  ['missing-image', (p) => { delete p.spec.containers[0].image; }],
  ['container-port-out-of-range', (p) => { p.spec.containers[0].ports = [{ containerPort: 70000, protocol: 'TCP' }]; }],
  ['host-port-out-of-range', (p) => { p.spec.containers[0].ports = [{ containerPort: 80, hostPort: 65536, protocol: 'TCP' }]; }],
  ['bad-protocol', (p) => { p.spec.containers[0].ports = [{ containerPort: 80, protocol: 'HTTP' }]; }],
  ['bad-restart-policy', (p) => { p.spec.restartPolicy = 'Sometimes'; }],
  ['bad-sysctl-name', (p) => { p.spec.securityContext = { ...p.spec.securityContext, sysctls: [{ name: 'Kernel..Bad Name', value: '1' }] }; }],
  ['uppercase-pod-name', (p) => { p.metadata.name = p.metadata.name.toUpperCase(); }],
  ['pod-name-254', (p) => { p.metadata.name = `${p.metadata.name.split('.')[0].slice(0, 20)}.${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`.slice(0, 254).replace(/\.$/, 'x'); }],
  ['unknown-runtime-class', (p) => { p.spec.runtimeClassName = 'fuzz-no-such-runtime-class'; }],
  ['strict-unknown-field', (p) => { p.spec.containers[0].notAContainerField = 'x'; return { strict: true }; }],
  ['bad-quantity', (p) => { p.spec.containers[0].resources = { requests: { cpu: 'lots' } }; }],
  ['requests-over-limits', (p) => { p.spec.containers[0].resources = { requests: { memory: '1Gi' }, limits: { memory: '100Mi' } }; }],
  ['bad-container-name', (p) => { p.spec.containers[0].name = 'Bad_Name'; }],
  ['empty-env-name', (p) => { p.spec.containers[0].env = [{ name: '', value: 'x' }]; }],
  ['negative-active-deadline', (p) => { p.spec.activeDeadlineSeconds = -1; }],
  ['mount-of-unknown-volume', (p) => { p.spec.containers[0].volumeMounts = [{ name: 'fuzz-no-such-volume', mountPath: '/x' }]; }],
  ['duplicate-volume-name', (p) => { p.spec.volumes = [{ name: 'dup', emptyDir: {} }, { name: 'dup', emptyDir: {} }]; }],
  ['duplicate-host-port-in-pod', (p, _r, ctx) => {
    const port = { containerPort: 80, hostPort: ctx.hostPortBase + 5, protocol: 'TCP' };
    p.spec.containers[0].ports = [port];
    p.spec.containers.push({ name: 'second', image: p.spec.containers[0].image, command: ['sleep', '3600'], ports: [{ ...port, containerPort: 81 }] });
  }],
  ['label-value-64', (p, rng) => { p.metadata.labels.long = rng.string(64); }],
  ['dns-none-without-config', (p) => { p.spec.dnsPolicy = 'None'; delete p.spec.dnsConfig; }],
  ['host-network-port-mismatch', (p) => { p.spec.hostNetwork = true; p.spec.containers[0].ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }]; }],
  ['liveness-success-threshold-2', (p) => { p.spec.containers[0].livenessProbe = { exec: { command: ['true'] }, successThreshold: 2 }; }],
  // (A negative terminationGracePeriodSeconds is no refusal: kube-apiserver sets it to 1.)
  ['startup-success-threshold-2', (p) => { p.spec.containers[0].startupProbe = { exec: { command: ['true'] }, successThreshold: 2 }; }],
  ['hostname-uppercase', (p) => { p.spec.hostname = 'Not_A_Label'; }],
  ['sidecar-restart-policy-never', (p) => { p.spec.initContainers = [{ name: 'side-bad', image: p.spec.containers[0].image, restartPolicy: 'Never' }]; }],
];

export const REFUSAL_NAMES = REFUSALS.map(([n]) => n);

/** Spec `index` of `seed`. */
export function generateCase(seed: number, index: number, ctx: GenContext): FuzzCase {
  const rng = new Rng(specSeed(seed, index));
  const features: string[] = [];
  cleanPod = rng.chance(0.4);
  if (cleanPod) features.push('clean');
  const pod = validPod(rng, ctx, index, features);
  if (rng.chance(0.08)) {
    const [mutation, apply] = rng.pick(REFUSALS);
    // Keep the base simple, so the mutation alone decides.
    const r = apply(pod, rng, ctx);
    return { index, name: pod.metadata.name, pod, expect: 'refuse', mutation, strict: !!r?.strict, features };
  }
  return { index, name: pod.metadata.name, pod, expect: 'accept', features };
}
