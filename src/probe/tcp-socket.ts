// tcpSocket probes: the port is open when a TCP connection can be made; it is closed again at once.
import { connect } from 'node:net';
import type { V1Container, V1TCPSocketAction } from '@kubernetes/client-node';
import type { ProbeOutcome } from './probe-outcome.ts';
import { resolveContainerPort } from './container-port.ts';
import { dialErrorText, dialTimeoutText, joinHostPort, type NodeNetError } from './go-text.ts';

export interface TcpSocketTarget { host: string; port: number }

/** host defaults to the pod IP; the port may be the name of one of the container's ports. */
export function tcpSocketTargetOf(action: V1TCPSocketAction, container: V1Container, podIP: string): TcpSocketTarget {
  return { host: action.host || podIP, port: resolveContainerPort(action.port, container) };
}

export function runTcpSocket(target: TcpSocketTarget, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const finish = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ result: 'failure', output: dialTimeoutText(target.host, target.port) }), timeoutMs);
    socket.once('connect', () => finish({ result: 'success', output: '' }));
    socket.once('error', (err: NodeNetError) => finish({
      result: 'failure',
      output: dialErrorText(err, target.host, target.port) ?? `dial tcp ${joinHostPort(target.host, target.port)}: ${err.message}`,
    }));
  });
}
