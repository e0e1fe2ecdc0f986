// The decision half of a pod sync, as the kubelet's computePodActions: given the pod spec and
// what the runtime holds for it, what must happen next? PURE: no I/O, no clock, no globals;
// the executor (execute-pod-actions.ts) does the work. Deleted and finished pods never get
// here: the agent's pod worker decides those (next-pod-worker-step.ts). Reading order of the rules:
//   1. no usable sandbox → kill what is left, make a new one, start from the first init container;
//   2. init containers run one at a time, in order, each must exit 0; a sidecar (an init container
//      with restartPolicy Always) must only have started (its startup probe passed) for the next;
//   3. app containers: start missing ones, restart exited ones per restartPolicy (with backoff),
//      replace running ones whose spec changed or whose liveness or startup probe failed;
//      sidecars restart whenever they exit; no app container left to run → stop the sandbox;
//   4. ephemeral containers (kubectl debug) start once in a running sandbox, even before init is
//      done, and are never restarted.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ObservedContainer, ObservedSandbox, RuntimePodStatus } from './pod-runtime.ts';
import { containerBackoffKey, type BackoffView } from './backoff.ts';
import { containerSpecHash } from './labels.ts';
import { isActiveContainer } from '../../pod/active-container.ts';
import { isSidecar } from '../../pod/sidecar.ts';
import { restartsAfterExit } from '../../pod/restart-policy.ts';
import { noProbeResults, type ProbeResultsView } from '../../pod/probe-results.ts';

export type PodAction =
  | { type: 'killPod'; reason: string }
  | { type: 'createSandbox'; attempt: number; reason: string }
  | { type: 'killContainer'; containerId: string; name: string; reason: string; message: string;
      /** A failed probe's own terminationGracePeriodSeconds, which wins over the pod's. */
      gracePeriodSeconds?: number }
  | { type: 'startContainer'; name: string; init: boolean; attempt: number; reason: string; backoffKey: string;
      /** From spec.ephemeralContainers (kubectl debug). */
      ephemeral?: true }
  /** A container that should start but must wait out its restart backoff first. */
  | { type: 'wait'; name: string; reason: 'CrashLoopBackOff'; message: string; retryAfterMs: number };

export interface PodActions {
  /** The sandbox containers go into; undefined when a new one is created first. */
  sandboxId?: string;
  actions: PodAction[];
}

export function computePodActions(pod: V1Pod, observed: RuntimePodStatus, backoff: BackoffView, now: number, probes: ProbeResultsView = noProbeResults): PodActions {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const initContainers = pod.spec?.initContainers ?? [];
  const containers = pod.spec?.containers ?? [];
  const uid = observed.uid || pod.metadata?.uid || '';

  const sandboxDecision = decideSandbox(pod, observed.sandboxes);
  if (sandboxDecision.create) {
    const attempt = sandboxDecision.attempt;
    const killFirst: PodAction[] = observed.sandboxes.length || observed.containers.some(isActiveContainer)
      ? [{ type: 'killPod', reason: sandboxDecision.reason }]
      : [];
    // Never restart a pod under restartPolicy Never once its containers ran (kubelet rule).
    if (restartPolicy === 'Never' && attempt !== 0 && observed.containers.length > 0) {
      return { actions: isAlive(observed) ? [{ type: 'killPod', reason: 'Pod will not be restarted (restartPolicy Never)' }] : [] };
    }
    const toStart = containers.filter(c => !(restartPolicy === 'OnFailure' && succeededOnce(c.name, observed.containers)));
    if (toStart.length === 0 && initContainers.length === 0) {
      return { actions: isAlive(observed) ? [{ type: 'killPod', reason: 'All containers have completed' }] : [] };
    }
    const actions: PodAction[] = [...killFirst, { type: 'createSandbox', attempt, reason: sandboxDecision.reason }];
    const first = initContainers.length ? [initContainers[0]] : toStart;
    for (const c of first) actions.push(startOrWait(pod, uid, c, initContainers.length > 0, observed.containers, backoff, now, 'Starting in a new sandbox'));
    return { actions };
  }

  const sandbox = sandboxDecision.sandbox;
  const next = runningSandboxActions(pod, uid, sandbox, observed, backoff, now, probes);
  // A pod being stopped starts nothing new, ephemeral containers included.
  if (next.some(a => a.type === 'killPod')) return { sandboxId: sandbox.id, actions: next };
  return { sandboxId: sandbox.id, actions: [...ephemeralStarts(pod, uid, observed), ...next] };
}

/** Ephemeral containers never started in any sandbox of the pod: start them, once. */
function ephemeralStarts(pod: V1Pod, uid: string, observed: RuntimePodStatus): PodAction[] {
  return (pod.spec?.ephemeralContainers ?? [])
    .filter(c => !observed.containers.some(o => o.name === c.name))
    .map(c => ({ ...start(uid, c as V1Container, false, observed.containers, 'Ephemeral container requested'), ephemeral: true as const }));
}

/** Rules 2 and 3, in a sandbox that is ready. */
function runningSandboxActions(
  pod: V1Pod, uid: string, sandbox: ObservedSandbox, observed: RuntimePodStatus, backoff: BackoffView, now: number, probes: ProbeResultsView,
): PodAction[] {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const initContainers = pod.spec?.initContainers ?? [];
  const containers = pod.spec?.containers ?? [];
  const inSandbox = observed.containers.filter(c => c.sandboxId === sandbox.id);

  // Once an app container exists in this sandbox the pod is initialized: init containers are not run again.
  const initialized = containers.some(c => newestByName(c.name, inSandbox));
  if (!initialized) {
    const init = initContainerActions(pod, uid, initContainers, inSandbox, observed.containers, backoff, now, probes);
    if (init.kind === 'failed') return [{ type: 'killPod', reason: `Init container ${init.name} failed and restartPolicy is Never` }];
    if (init.kind === 'inProgress') return init.actions;
  }

  const actions: PodAction[] = [];
  let keep = 0;
  for (const c of containers) {
    const current = newestByName(c.name, inSandbox);
    if (!current) {
      if (restartPolicy === 'OnFailure' && succeededOnce(c.name, observed.containers)) continue;
      if (restartPolicy === 'Never' && newestByName(c.name, observed.containers)) continue;
      actions.push(startOrWait(pod, uid, c, false, observed.containers, backoff, now, 'Container not yet started'));
      continue;
    }
    if (current.state === 'running') {
      const probeKill = probeFailureKill(c, current, probes, restartPolicy !== 'Never');
      if (probeKill) {
        actions.push(probeKill);
        if (restartPolicy !== 'Never') actions.push(start(uid, c, false, observed.containers, probeKill.message));
      } else if (current.specHash && current.specHash !== containerSpecHash(c)) {
        // A changed spec means a new container regardless of restartPolicy (kubelet rule).
        actions.push({ type: 'killContainer', containerId: current.id, name: c.name, reason: 'Killing', message: `Container ${c.name} definition changed, will be restarted` });
        actions.push(start(uid, c, false, observed.containers, 'Container definition changed'));
      } else {
        keep++;
      }
      continue;
    }
    if (current.state === 'created' || current.state === 'unknown') {
      actions.push({ type: 'killContainer', containerId: current.id, name: c.name, reason: 'Killing', message: `Container ${c.name} is in ${current.state} state, killing it before restart` });
      actions.push(start(uid, c, false, observed.containers, `Container was ${current.state}`));
      continue;
    }
    if (shouldRestartExited(restartPolicy, current)) {
      actions.push(startOrWait(pod, uid, c, false, observed.containers, backoff, now, `Container exited with code ${current.exitCode ?? 'unknown'}`));
    }
  }
  if (keep === 0 && actions.length === 0) {
    // No app container runs and none will: stop the sandbox (sidecars too), the pod is complete.
    return isAlive(observed) ? [{ type: 'killPod', reason: 'All containers have completed' }] : [];
  }
  const sidecars = initContainers.filter(isSidecar).flatMap(c => sidecarActions(uid, c, inSandbox, observed.containers, backoff, now, probes, pod));
  return [...sidecars, ...actions];
}

/** A running sidecar is kept; one that exited (or failed a probe) starts again, whatever the pod's restartPolicy. */
function sidecarActions(
  uid: string, c: V1Container, inSandbox: ObservedContainer[], all: ObservedContainer[], backoff: BackoffView, now: number, probes: ProbeResultsView, pod: V1Pod,
): PodAction[] {
  const current = newestByName(c.name, inSandbox);
  if (current?.state === 'running') {
    const probeKill = probeFailureKill(c, current, probes, true);
    return probeKill ? [probeKill, start(uid, c, true, all, probeKill.message)] : [];
  }
  if (current && current.state !== 'exited') {
    return [
      { type: 'killContainer', containerId: current.id, name: c.name, reason: 'Killing', message: `Init container ${c.name} is in ${current.state} state, killing it before restart` },
      start(uid, c, true, all, `Init container was ${current.state}`),
    ];
  }
  return [startOrWait(pod, uid, c, true, all, backoff, now, current ? `Sidecar exited with code ${current.exitCode ?? 'unknown'}` : 'Sidecar not running')];
}

/** A running container whose liveness or startup probe failed is killed (the kubelet's message). */
function probeFailureKill(c: V1Container, current: ObservedContainer, probes: ProbeResultsView, willRestart: boolean): Extract<PodAction, { type: 'killContainer' }> | undefined {
  const verdicts = probes(current.id);
  const failed = verdicts?.liveness === 'failure' ? 'liveness' : verdicts?.startup === 'failure' ? 'startup' : undefined;
  if (!failed) return undefined;
  const grace = (failed === 'liveness' ? c.livenessProbe : c.startupProbe)?.terminationGracePeriodSeconds;
  return {
    type: 'killContainer', containerId: current.id, name: c.name, reason: 'Killing',
    message: `Container ${c.name} failed ${failed} probe${willRestart ? ', will be restarted' : ''}`,
    ...(grace !== undefined && grace !== null ? { gracePeriodSeconds: grace } : {}),
  };
}

/** A sidecar has started once it runs and its startup probe (if any) passed. */
function sidecarStarted(c: V1Container, current: ObservedContainer, probes: ProbeResultsView): boolean {
  return current.state === 'running' && (!c.startupProbe || probes(current.id)?.startup === 'success');
}

type SandboxDecision =
  | { create: true; attempt: number; reason: string }
  | { create: false; sandbox: ObservedSandbox };

function decideSandbox(pod: V1Pod, sandboxes: ObservedSandbox[]): SandboxDecision {
  const newest = sandboxes[0];
  if (!newest) return { create: true, attempt: 0, reason: 'No sandbox for pod can be found. Need to start a new one' };
  const attempt = newest.attempt + 1;
  if (sandboxes.filter(s => s.state === 'ready').length > 1) {
    return { create: true, attempt, reason: 'Multiple sandboxes are ready for Pod. Need to reconcile them' };
  }
  if (newest.state !== 'ready') return { create: true, attempt, reason: 'No ready sandbox for pod can be found. Need to start a new one' };
  const hostNetwork = pod.spec?.hostNetwork === true;
  if (newest.hostNetwork !== undefined && newest.hostNetwork !== hostNetwork) {
    return { create: true, attempt, reason: 'Sandbox for pod has changed. Need to start a new one' };
  }
  if (!hostNetwork && newest.ips.length === 0) return { create: true, attempt, reason: 'Sandbox for pod has no IP address. Need to start a new one' };
  return { create: false, sandbox: newest };
}

type InitOutcome =
  | { kind: 'complete' }
  | { kind: 'inProgress'; actions: PodAction[] }
  | { kind: 'failed'; name: string };

function initContainerActions(
  pod: V1Pod, uid: string, initContainers: V1Container[], inSandbox: ObservedContainer[], all: ObservedContainer[], backoff: BackoffView, now: number,
  probes: ProbeResultsView,
): InitOutcome {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  for (const c of initContainers) {
    const current = newestByName(c.name, inSandbox);
    if (isSidecar(c) && current) {
      if (sidecarStarted(c, current, probes)) continue;
      // Running but not yet started: wait, unless a probe already failed it.
      const actions = current.state === 'running' && !probeFailureKill(c, current, probes, true)
        ? [] : sidecarActions(uid, c, inSandbox, all, backoff, now, probes, pod);
      return { kind: 'inProgress', actions };
    }
    if (!current) return { kind: 'inProgress', actions: [startOrWait(pod, uid, c, true, all, backoff, now, 'Next init container')] };
    if (current.state === 'running') return { kind: 'inProgress', actions: [] };
    if (current.state === 'exited' && current.exitCode === 0) continue;
    if (current.state === 'exited') {
      if (restartPolicy === 'Never') return { kind: 'failed', name: c.name };
      return { kind: 'inProgress', actions: [startOrWait(pod, uid, c, true, all, backoff, now, `Init container exited with code ${current.exitCode ?? 'unknown'}`)] };
    }
    return {
      kind: 'inProgress',
      actions: [
        { type: 'killContainer', containerId: current.id, name: c.name, reason: 'Killing', message: `Init container ${c.name} is in ${current.state} state, killing it before restart` },
        start(uid, c, true, all, `Init container was ${current.state}`),
      ],
    };
  }
  return { kind: 'complete' };
}

function startOrWait(
  pod: V1Pod, uid: string, c: V1Container, init: boolean, all: ObservedContainer[], backoff: BackoffView, now: number, reason: string,
): PodAction {
  const action = start(uid, c, init, all, reason);
  const previous = newestByName(c.name, all);
  if (previous?.state === 'exited' && previous.finishedAtMs !== undefined) {
    const remaining = backoff.remainingSince(action.backoffKey, previous.finishedAtMs, now);
    if (remaining > 0) {
      const seconds = Math.round(backoff.durationOf(action.backoffKey) / 1000);
      const podRef = `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? 'default'}(${uid})`;
      return { type: 'wait', name: c.name, reason: 'CrashLoopBackOff', message: `back-off ${formatSeconds(seconds)} restarting failed container=${c.name} pod=${podRef}`, retryAfterMs: remaining };
    }
  }
  return action;
}

function start(uid: string, c: V1Container, init: boolean, all: ObservedContainer[], reason: string): Extract<PodAction, { type: 'startContainer' }> {
  const attempts = all.filter(o => o.name === c.name).map(o => o.attempt);
  const attempt = attempts.length ? Math.max(...attempts) + 1 : 0;
  return { type: 'startContainer', name: c.name, init, attempt, reason, backoffKey: containerBackoffKey(uid, c.name, containerSpecHash(c)) };
}

/** Go's time.Duration style ("10s", "1m20s", "5m0s"), as the kubelet's message shows it. */
function formatSeconds(total: number): string {
  if (total < 60) return `${total}s`;
  return `${Math.floor(total / 60)}m${total % 60}s`;
}

function shouldRestartExited(restartPolicy: string, c: ObservedContainer): boolean {
  return restartsAfterExit(restartPolicy, c.exitCode);
}

function newestByName(name: string, containers: ObservedContainer[]): ObservedContainer | undefined {
  let newest: ObservedContainer | undefined;
  for (const c of containers) {
    if (c.name !== name) continue;
    if (!newest || c.attempt > newest.attempt || (c.attempt === newest.attempt && c.createdAtMs > newest.createdAtMs)) newest = c;
  }
  return newest;
}

function succeededOnce(name: string, containers: ObservedContainer[]): boolean {
  return containers.some(c => c.name === name && c.state === 'exited' && c.exitCode === 0);
}

/** Anything that a kill would still have to stop. */
function isAlive(observed: RuntimePodStatus): boolean {
  return observed.sandboxes.some(s => s.state === 'ready') || observed.containers.some(isActiveContainer);
}
