// postStart and preStop handlers, as the kubelet's handler runner: exec through CRI ExecSync,
// httpGet against the pod (a hook fails only when no response came, whatever its status code),
// or sleep. A failure comes back as the message the kubelet puts in FailedPostStartHook and
// FailedPreStopHook events; the callers decide what it costs (postStart kills, preStop does not).
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Container, V1LifecycleHandler } from '@kubernetes/client-node';
import { httpGetTargetOf, runHttpGet } from '../../probe/http-get.ts';
import { kubeUserAgent } from '../../probe/user-agent.ts';
import { podDescription, type PodRef } from '../../pod/pod-ref.ts';
import { errorMessage } from './sync-result.ts';
import { step, type ExecutorDeps } from './executor-deps.ts';
import { clampTimerMs } from '../../util/timer-limit.ts';
import { inSpan, markActiveSpanFailed } from '../../trace/in-span.ts';
import { CONTAINER_ID, CONTAINER_NAME } from '../../trace/span-attributes.ts';

export type HookName = 'postStart' | 'preStop';

export interface HookTarget {
  container: V1Container;
  containerId: string;
  podIPs: string[];
  /** Seconds the hook may take; undefined: as long as it takes (postStart). */
  timeoutSeconds?: number;
}

export type HookOutcome = { ok: true } | { ok: false; message: string };

export function runLifecycleHook(deps: ExecutorDeps, ref: PodRef, hook: HookName, handler: V1LifecycleHandler, t: HookTarget): Promise<HookOutcome> {
  const kind = handler.exec ? 'exec' : handler.httpGet ? 'httpGet' : handler.sleep ? 'sleep' : 'none';
  return inSpan(hook, { [CONTAINER_NAME]: t.container.name, [CONTAINER_ID]: t.containerId, 'hook.handler': kind }, async () => {
    const outcome = await runHook(deps, ref, hook, handler, t);
    if (!outcome.ok) markActiveSpanFailed(outcome.message);
    return outcome;
  });
}

async function runHook(deps: ExecutorDeps, ref: PodRef, hook: HookName, handler: V1LifecycleHandler, t: HookTarget): Promise<HookOutcome> {
  const name = t.container.name;
  const pod = podDescription(ref);
  try {
    if (handler.exec) {
      const cmd = handler.exec.command ?? [];
      const timeout = t.timeoutSeconds ?? 0;
      // The CRI client's deadline follows the request's timeout (none for 0).
      const res = await step(deps, ref, hook, name, () => deps.runtime.execSync({ containerId: t.containerId, cmd, timeout }));
      if (res.exitCode === 0) return { ok: true };
      const output = `${Buffer.from(res.stdout ?? '').toString()}${Buffer.from(res.stderr ?? '').toString()}`;
      return { ok: false, message: `Exec lifecycle hook ([${cmd.join(' ')}]) for Container "${name}" in Pod "${pod}" failed - error: command '${cmd.join(' ')}' exited with ${res.exitCode}: ${output}, message: ${JSON.stringify(output)}` };
    }
    if (handler.httpGet) {
      const target = httpGetTargetOf(handler.httpGet, t.container, t.podIPs[0] ?? '');
      const timeoutMs = (t.timeoutSeconds ?? 0) > 0 ? t.timeoutSeconds! * 1000 : 2 * 60_000;
      const res = await step(deps, ref, hook, name, () => runHttpGet(target, timeoutMs, { userAgent: kubeUserAgent('lifecycle') }));
      if (res.statusCode !== undefined) return { ok: true };
      return { ok: false, message: `HTTP lifecycle hook (${target.path}) for Container "${name}" in Pod "${pod}" failed - error: ${res.output}` };
    }
    if (handler.sleep) {
      const seconds = Math.max(0, handler.sleep.seconds ?? 0);
      const capped = t.timeoutSeconds !== undefined ? Math.min(seconds, t.timeoutSeconds) : seconds;
      await step(deps, ref, hook, name, () => sleep(clampTimerMs(capped * 1000)));
      return { ok: true };
    }
    if (handler.tcpSocket) return { ok: false, message: `${hook} hook for Container "${name}" in Pod "${pod}" names tcpSocket, which is kept in the API only for compatibility and never run` };
    return { ok: false, message: `${hook} hook for Container "${name}" in Pod "${pod}" has no handler` };
  } catch (err) {
    return { ok: false, message: `${hook} hook for Container "${name}" in Pod "${pod}" failed - error: ${errorMessage(err)}` };
  }
}
