// The service environment variables the kubelet gives every container (the kubelet's
// getServiceEnvVarMap and envvars.FromServices), PURE: from the Services the agent knows, the
// variables a pod in a namespace sees.
//
// Which services: those of the pod's own namespace when spec.enableServiceLinks is on (the API
// defaults it to true), and always the master service, `kubernetes` in `default`, so in-cluster
// clients find the API server. A service of the pod's namespace wins a name clash with the master
// service. Services without a cluster IP ("" or "None", headless) give no variables.
//
// Per service NAME (upper-cased, '-' → '_') with cluster IP A and ports P1..Pn:
//   NAME_SERVICE_HOST=A, NAME_SERVICE_PORT=<P1's port>, NAME_SERVICE_PORT_<PORTNAME>=<port> per
//   named port, and the Docker-link set: NAME_PORT=<proto>://A:<P1's port>, and per port
//   NAME_PORT_<port>_<PROTO>=<proto>://A:<port> with _PROTO, _PORT and _ADDR beside it. An IPv6
//   address is bracketed in the URLs ([fd00::1]:80), as Go's net.JoinHostPort writes it.
import type { V1Service } from '@kubernetes/client-node';

/** The namespace and name of the master service (the kubelet's masterServiceNamespace default). */
export const MASTER_SERVICE_NAMESPACE = 'default';
export const MASTER_SERVICE_NAME = 'kubernetes';

export interface EnvVar {
  name: string;
  value: string;
}

/** A cluster IP that routes: not empty, not "None" (a headless service). */
export function isServiceIPSet(service: V1Service): boolean {
  const ip = service.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

/** A service or port name as a variable name: upper case, '-' as '_'. */
export function envVarNameOf(name: string): string {
  return name.replaceAll('-', '_').toUpperCase();
}

/** host:port, the host bracketed when it is an IPv6 address. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The variables of these services, in their order; services without a cluster IP are skipped. */
export function envVarsFromServices(services: readonly V1Service[]): EnvVar[] {
  const out: EnvVar[] = [];
  for (const service of services) {
    if (!isServiceIPSet(service)) continue;
    const prefix = envVarNameOf(service.metadata?.name ?? '');
    const ip = service.spec!.clusterIP!;
    const ports = service.spec?.ports ?? [];
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    // The API requires a port on a service with a cluster IP; without one only the host is told.
    if (ports.length === 0) continue;
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(ports[0]!.port) });
    for (const p of ports) {
      if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envVarNameOf(p.name)}`, value: String(p.port) });
    }
    ports.forEach((p, i) => {
      const proto = (p.protocol || 'TCP').toLowerCase();
      const url = `${proto}://${hostPort(ip, p.port)}`;
      // Docker's links name the first port on its own.
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const portPrefix = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push(
        { name: portPrefix, value: url },
        { name: `${portPrefix}_PROTO`, value: proto },
        { name: `${portPrefix}_PORT`, value: String(p.port) },
        { name: `${portPrefix}_ADDR`, value: ip },
      );
    });
  }
  return out;
}

/**
 * The services a pod in `namespace` sees, by name (sorted, so the variables come in a stable
 * order): its namespace's when service links are enabled, and the master service unless one
 * of its namespace has the same name.
 */
export function servicesForPod(services: readonly V1Service[], namespace: string, enableServiceLinks: boolean): V1Service[] {
  const byName = new Map<string, V1Service>();
  for (const service of services) {
    if (!isServiceIPSet(service)) continue;
    const name = service.metadata?.name ?? '';
    const ns = service.metadata?.namespace ?? 'default';
    if (ns === MASTER_SERVICE_NAMESPACE && name === MASTER_SERVICE_NAME) {
      if (!byName.has(name)) byName.set(name, service);
    } else if (ns === namespace && enableServiceLinks) {
      byName.set(name, service);
    }
  }
  return [...byName.keys()].sort().map((name) => byName.get(name)!);
}

/** The service variables of a pod in `namespace` (spec.enableServiceLinks: absent counts as true). */
export function serviceEnvFor(services: readonly V1Service[], namespace: string, enableServiceLinks: boolean | undefined): Map<string, string> {
  const env = new Map<string, string>();
  for (const e of envVarsFromServices(servicesForPod(services, namespace, enableServiceLinks !== false))) env.set(e.name, e.value);
  return env;
}
