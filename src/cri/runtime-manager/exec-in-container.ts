// A command in a running container through CRI ExecSync, for exec probes: the output as text, and
// a time-out told apart from other failures (the prober reports it as the kubelet does).
import type { CriClient } from '../client.ts';
import { GrpcStatus, isCriCode } from '../errors.ts';
import { errorMessage } from './sync-result.ts';

export class ExecTimeoutError extends Error {
  readonly timedOut = true;
}

export async function execInContainer(runtime: CriClient, containerId: string, cmd: string[], timeoutSeconds: number): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  try {
    const res = await runtime.execSync({ containerId, cmd, timeout: timeoutSeconds });
    return { exitCode: res.exitCode, stdout: Buffer.from(res.stdout ?? '').toString(), stderr: Buffer.from(res.stderr ?? '').toString() };
  } catch (err) {
    // containerd answers DeadlineExceeded ("timeout 1s exceeded"); the call's own deadline says the same.
    if (isCriCode(err, GrpcStatus.DEADLINE_EXCEEDED) || /timeout .* exceeded|timed out/.test(errorMessage(err))) {
      throw new ExecTimeoutError(`command timed out after ${timeoutSeconds}s`);
    }
    throw err;
  }
}
