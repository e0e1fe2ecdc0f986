// Where a streaming session (kubectl exec, attach, port-forward) is served: the runtime's own
// streaming server, whose URL CRI Exec/Attach/PortForward answer. The node API then hands the
// client's upgraded connection to that URL, as the kubelet proxies container streams.
import type { CriClient } from '../client.ts';
import type { StreamRequest } from './pod-runtime.ts';
import { POD_UID_LABEL } from './labels.ts';

export async function streamingUrl(runtime: CriClient, req: StreamRequest): Promise<string> {
  switch (req.kind) {
    case 'exec':
      return (await runtime.exec({ containerId: req.containerId, cmd: req.cmd, tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr })).url;
    case 'attach':
      return (await runtime.attach({ containerId: req.containerId, tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr })).url;
    case 'portForward': {
      const { items } = await runtime.listPodSandbox({ filter: { labelSelector: { [POD_UID_LABEL]: req.podUid }, state: { state: 'SANDBOX_READY' } } });
      const sandbox = items[0];
      if (!sandbox) throw new Error(`pod ${req.podUid} has no ready sandbox to forward ports into`);
      return (await runtime.portForward({ podSandboxId: sandbox.id, port: req.ports })).url;
    }
  }
}
