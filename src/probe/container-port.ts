// The port a probe or hook names: a number, or the name of one of the container's ports
// (the kubelet's probe.ResolveContainerPort, with its error texts).
import type { V1Container } from '@kubernetes/client-node';

export function resolveContainerPort(port: number | string | undefined, container: V1Container): number {
  let resolved: number;
  if (typeof port === 'number') {
    resolved = port;
  } else if (typeof port === 'string' && /^[0-9]+$/.test(port)) {
    // The API keeps a quoted number as a string; the older hook code read it as the number.
    resolved = Number(port);
  } else if (typeof port === 'string') {
    const named = container.ports?.find((p) => p.name === port && port !== '');
    if (!named) throw new Error(`port ${JSON.stringify(port)} not found`);
    resolved = named.containerPort;
  } else {
    // An unset IntOrString is the number 0 in Go.
    resolved = 0;
  }
  if (Number.isInteger(resolved) && resolved > 0 && resolved < 65536) return resolved;
  throw new Error(`invalid port number: ${resolved}`);
}
