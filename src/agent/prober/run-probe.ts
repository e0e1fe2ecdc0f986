// Runs one probe once, by whichever handler it names (exec, httpGet, tcpSocket, grpc), through
// the handlers of src/probe/. A probe whose target cannot be resolved (an unknown port name)
// fails with the reason, like any other failure.
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { runExecProbe, type ExecInContainer } from '../../probe/exec.ts';
import { httpGetTargetOf, runHttpGet } from '../../probe/http-get.ts';
import { runTcpSocket, tcpSocketTargetOf } from '../../probe/tcp-socket.ts';
import { grpcTargetOf, runGrpcHealth } from '../../probe/grpc-health.ts';
import type { ProbeOutcome } from '../../probe/probe-outcome.ts';

export interface ProbeTarget {
  containerId: string;
  container: V1Container;
  /** The pod's primary IP (the node's for hostNetwork pods): the default host. */
  podIP: string;
}

export async function runProbe(probe: V1Probe, target: ProbeTarget, timeoutSeconds: number, exec: ExecInContainer): Promise<ProbeOutcome> {
  try {
    if (probe.exec) return await runExecProbe(exec, target.containerId, probe.exec.command ?? [], timeoutSeconds);
    if (probe.httpGet) return await runHttpGet(httpGetTargetOf(probe.httpGet, target.container, target.podIP), timeoutSeconds * 1000);
    if (probe.tcpSocket) return await runTcpSocket(tcpSocketTargetOf(probe.tcpSocket, target.container, target.podIP), timeoutSeconds * 1000);
    if (probe.grpc) return await runGrpcHealth(grpcTargetOf(probe.grpc, target.podIP), timeoutSeconds * 1000);
    return { result: 'failure', output: 'missing probe handler' };
  } catch (err) {
    return { result: 'failure', output: err instanceof Error ? err.message : String(err) };
  }
}
