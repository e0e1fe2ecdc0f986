// One probe of one container instance, as a state machine (PURE: the clock comes in as `nowMs`).
// The prober manager (prober-manager.ts) runs the probe on a timer and feeds each raw result here:
//   1. a probe waits out initialDelaySeconds from the container's start;
//   2. liveness and readiness wait until the startup probe (if any) has passed; a startup probe
//      stops once it has passed;
//   3. a verdict changes only after failureThreshold failures (successThreshold successes) in a row;
//   4. a failed liveness or startup verdict holds the probe until the container is replaced
//      (the runtime manager kills it); a new container ID starts from the initial verdict.
import type { V1Probe } from '@kubernetes/client-node';
import type { ProbeKind, ProbeVerdict } from '../../pod/probe-results.ts';

export interface ProbeSettings {
  initialDelayMs: number;
  periodMs: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  /** The probe-level override of the pod's grace period for a kill this probe causes. */
  terminationGracePeriodSeconds?: number;
}

/** The kubelet's defaults: period 10 s, timeout 1 s, success 1, failure 3. */
export function probeSettingsOf(kind: ProbeKind, probe: V1Probe): ProbeSettings {
  const positive = (v: number | undefined, d: number) => (v !== undefined && v > 0 ? v : d);
  return {
    initialDelayMs: Math.max(0, probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: positive(probe.periodSeconds, 10) * 1000,
    timeoutSeconds: positive(probe.timeoutSeconds, 1),
    // API validation holds liveness and startup probes to a success threshold of 1.
    successThreshold: kind === 'readiness' ? positive(probe.successThreshold, 1) : 1,
    failureThreshold: positive(probe.failureThreshold, 3),
    ...(kind !== 'readiness' && probe.terminationGracePeriodSeconds !== undefined
      ? { terminationGracePeriodSeconds: probe.terminationGracePeriodSeconds } : {}),
  };
}

export interface ProbeState {
  containerId: string;
  verdict: ProbeVerdict;
  /** The last raw result and how many times in a row it came. */
  last?: 'success' | 'failure';
  run: number;
  /** A failed liveness/startup verdict: nothing more to probe until a new container. */
  onHold: boolean;
}

/** Before any probe ran: not ready; alive; not started. */
export function initialProbeState(kind: ProbeKind, containerId: string): ProbeState {
  const verdict: ProbeVerdict = kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : 'unknown';
  return { containerId, verdict, run: 0, onHold: false };
}

export interface ProbeMoment {
  nowMs: number;
  /** When the container instance started running. */
  startedAtMs: number;
  /** Has the container's startup probe passed? Undefined: the container has no startup probe. */
  startupPassed: boolean | undefined;
}

export type ProbeGate =
  | { run: true }
  | { run: false; why: 'onHold' | 'startupPassed' | 'awaitingStartup' }
  | { run: false; why: 'initialDelay'; retryInMs: number };

/** Whether to run the probe now. */
export function probeGate(kind: ProbeKind, state: ProbeState, settings: ProbeSettings, m: ProbeMoment): ProbeGate {
  if (state.onHold) return { run: false, why: 'onHold' };
  if (kind === 'startup' && state.verdict === 'success') return { run: false, why: 'startupPassed' };
  if (kind !== 'startup' && m.startupPassed === false) return { run: false, why: 'awaitingStartup' };
  const delayLeft = m.startedAtMs + settings.initialDelayMs - m.nowMs;
  if (delayLeft > 0) return { run: false, why: 'initialDelay', retryInMs: delayLeft };
  return { run: true };
}

/** Folds one raw result ('warning' counts as success) into the state. */
export function recordProbeResult(kind: ProbeKind, state: ProbeState, raw: 'success' | 'failure', settings: ProbeSettings): ProbeState {
  const run = state.last === raw ? state.run + 1 : 1;
  const threshold = raw === 'success' ? settings.successThreshold : settings.failureThreshold;
  if (run < threshold) return { ...state, last: raw, run };
  const next: ProbeState = { ...state, last: raw, run, verdict: raw };
  // The runtime manager restarts the container; probing the dying one again would only repeat the verdict.
  if (raw === 'failure' && kind !== 'readiness') return { ...next, onHold: true, run: 0 };
  return next;
}
