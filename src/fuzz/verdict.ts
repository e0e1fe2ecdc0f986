// What "a precise reason" means, in one place. The fuzzer's claim about every accepted pod is
// that, within its deadline, the pod settles in a state whose status says why it is there:
//
//   Succeeded                       every regular container terminated with exit code 0
//   Failed:<reason>                 status.reason (DeadlineExceeded, OutOfcpu, SysctlForbidden,
//                                   NodeAffinity, ...) or a container's terminated reason (Error, ...)
//   Running:Ready                   the Ready condition is True
//   Running:<container reason>      Ready is not True and the first unready container (or sidecar) says why:
//                                   waiting with a PRECISE_WAITING_REASONS reason, terminated with a
//                                   reason, or running but unready (NotReady; the Ready condition
//                                   must then carry a reason)
//   Pending:<container reason>      a container (init or regular) waits with a precise reason
//   Pending:InitRunning             an init container runs (a sidecar starting, a long init step)
//                                   and the Initialized condition says ContainersNotInitialized
//   Pending:Event:<reason>          no container says why, but a Warning event for the pod does
//
// Anything else is imprecise: no phase, Unknown, Pending or Running with only transient reasons
// (ContainerCreating, PodInitializing) or none, a terminated container with no reason, a
// Succeeded pod whose container exited non-zero, a waiting reason the kubelet does not use.
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';

/** Waiting reasons that name what is wrong (the kubelet's, from images, kuberuntime and the pod workers). */
export const PRECISE_WAITING_REASONS: ReadonlySet<string> = new Set([
  'ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'RegistryUnavailable',
  'CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError',
  'PreStartHookError', 'PostStartHookError', 'ContainerStatusUnknown',
]);

/** Waiting reasons that only say the kubelet is not done yet: fine on the way, never a verdict. */
export const TRANSIENT_WAITING_REASONS: ReadonlySet<string> = new Set(['ContainerCreating', 'PodInitializing']);

export interface WarningEvent { reason?: string; message?: string }

export interface Verdict {
  /** The outcome class, e.g. Running:Ready, Pending:ImagePullBackOff, Failed:DeadlineExceeded. */
  outcome: string;
  /** Whether the status says precisely why the pod is where it is (see the top of this file). */
  precise: boolean;
  /** Succeeded or Failed: the pod will not change any more. */
  terminal: boolean;
  /** For an imprecise verdict: what is missing, in words. */
  why?: string;
}

type Said = { precise: true; label: string } | { precise: false; label: string };

/** What one container status says: Running, Waiting reason, or Terminated reason. */
export function containerSays(cs: V1ContainerStatus | undefined): Said {
  if (!cs) return { precise: false, label: 'NoStatus' };
  const { waiting, running, terminated } = cs.state ?? {};
  if (waiting) {
    const reason = waiting.reason ?? '';
    if (PRECISE_WAITING_REASONS.has(reason)) return { precise: true, label: reason };
    return { precise: false, label: reason || 'WaitingNoReason' };
  }
  if (terminated) {
    return terminated.reason ? { precise: true, label: `Terminated:${terminated.reason}` } : { precise: false, label: 'TerminatedNoReason' };
  }
  if (running) return { precise: true, label: 'Running' };
  return { precise: false, label: 'NoState' };
}

const condition = (pod: V1Pod, type: string): V1PodCondition | undefined => pod.status?.conditions?.find((c) => c.type === type);
const imprecise = (outcome: string, why: string): Verdict => ({ outcome, precise: false, terminal: false, why });

export function classifyPod(pod: V1Pod, warnings: readonly WarningEvent[] = []): Verdict {
  const status = pod.status ?? {};
  const phase = status.phase;
  const inits = status.initContainerStatuses ?? [];
  const mains = status.containerStatuses ?? [];
  switch (phase) {
    case 'Succeeded': {
      const bad = mains.find((c) => c.state?.terminated && c.state.terminated.exitCode !== 0);
      if (bad) return { outcome: 'Succeeded', precise: false, terminal: true, why: `Succeeded, but container ${bad.name} exited ${bad.state!.terminated!.exitCode}` };
      return { outcome: 'Succeeded', precise: true, terminal: true };
    }
    case 'Failed': {
      if (status.reason) return { outcome: `Failed:${status.reason}`, precise: true, terminal: true };
      const failed = [...inits, ...mains].find((c) => c.state?.terminated && (c.state.terminated.exitCode !== 0 || c.state.terminated.reason !== 'Completed'));
      const said = failed && containerSays(failed);
      if (said?.precise) return { outcome: `Failed:${said.label.replace(/^Terminated:/, '')}`, precise: true, terminal: true };
      return { outcome: 'Failed', precise: false, terminal: true, why: 'Failed with no pod reason and no failed container with a reason' };
    }
    case 'Running': {
      const ready = condition(pod, 'Ready');
      if (ready?.status === 'True') return { outcome: 'Running:Ready', precise: true, terminal: false };
      // Sidecars (init containers with restartPolicy Always) count toward Ready, as regular containers do.
      const sidecars = new Set((pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
      const unready = [...mains, ...inits.filter((c) => sidecars.has(c.name))].filter((c) => !c.ready);
      if (unready.length === 0) {
        return imprecise('Running:Unready', mains.length ? 'every container is ready, the Ready condition is not True' : 'Running with no container statuses');
      }
      for (const c of unready) {
        const said = containerSays(c);
        if (!said.precise) return imprecise(`Running:${said.label}`, `container ${c.name} is unready: ${said.label}`);
      }
      const first = containerSays(unready[0]);
      if (first.label === 'Running') {
        if (!ready?.reason) return imprecise('Running:NotReady', 'a container runs unready and the Ready condition has no reason');
        return { outcome: 'Running:NotReady', precise: true, terminal: false };
      }
      return { outcome: `Running:${first.label}`, precise: true, terminal: false };
    }
    case 'Pending': {
      for (const c of [...inits, ...mains]) {
        const said = containerSays(c);
        if (said.precise && said.label !== 'Running' && !said.label.startsWith('Terminated:')) return { outcome: `Pending:${said.label}`, precise: true, terminal: false };
      }
      const initialized = condition(pod, 'Initialized');
      if (inits.some((c) => c.state?.running) && initialized?.status === 'False' && initialized.reason) {
        return { outcome: 'Pending:InitRunning', precise: true, terminal: false };
      }
      const warning = warnings.find((e) => e.reason);
      if (warning) return { outcome: `Pending:Event:${warning.reason}`, precise: true, terminal: false };
      const transient = [...inits, ...mains].map(containerSays).find((s) => !s.precise);
      return imprecise(`Pending:${transient?.label ?? 'NoReason'}`, 'Pending, no container waits with a precise reason and no Warning event says why');
    }
    default:
      return imprecise(phase ? `${phase}` : 'NoPhase', phase ? `phase ${phase}` : 'no phase');
  }
}
