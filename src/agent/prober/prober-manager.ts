// The prober manager, as the kubelet's: one worker per probe of each running container instance
// (sidecars and app containers), beside the pod workers. A worker runs its probe every period,
// feeds the raw result to the pure state machine (probe-state.ts), records Unhealthy events, and
// when a verdict changes wakes the pod's worker through `changes`: the runtime manager then kills
// a container whose liveness or startup probe failed, and the status shows readiness.
import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Subject, type Observable } from 'rxjs';
import type { RuntimePodStatus, ObservedContainer } from '../../cri/runtime-manager/pod-runtime.ts';
import type { ExecInContainer } from '../../probe/exec.ts';
import type { ContainerProbeResults, ProbeKind, ProbeResultsView } from '../../pod/probe-results.ts';
import { longRunningContainersOf } from '../../pod/sidecar.ts';
import { podLogFields, podRefOf } from '../../pod/pod-ref.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import { initialProbeState, probeGate, probeSettingsOf, recordProbeResult, type ProbeSettings, type ProbeState } from './probe-state.ts';
import { runProbe } from './run-probe.ts';
import { noTracing, type AgentTracing } from '../../trace/tracing.ts';
import { markActiveSpanFailed, noteOnActiveSpan } from '../../trace/in-span.ts';
import { CONTAINER_ID, CONTAINER_NAME, podIdentityOf } from '../../trace/span-attributes.ts';
import { clampTimerMs } from '../../util/timer-limit.ts';

const KINDS: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];
const TITLE: Record<ProbeKind, string> = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' };

export interface ProberManager {
  /** After each sync: start, keep or stop the workers for the pod's running container instances. */
  track(pod: V1Pod, observed: RuntimePodStatus, podIP: string | undefined): void;
  /** Verdicts by container ID, for the runtime manager and the status. */
  results: ProbeResultsView;
  /** The pod's containers are being stopped (it was deleted): liveness and startup probes stop, so
   * they cannot restart what is being stopped; readiness keeps probing through the grace period, so
   * the status can show when the containers stop serving (the kubelet's prober worker does this). */
  terminating(uid: string): void;
  /** The pod's containers are stopped, or the pod is gone: probe it no more. */
  forget(uid: string): void;
  /** UIDs of pods whose verdicts changed. */
  readonly changes: Observable<string>;
  stop(): void;
}

export interface ProberManagerDeps {
  exec: ExecInContainer;
  events: EventRecorder;
  logger: Logger;
  /** Each probe run is a root span of its pod's timeline; default: none. */
  tracing?: AgentTracing;
}

interface ProbeWorker {
  key: string;
  uid: string;
  kind: ProbeKind;
  probe: V1Probe;
  settings: ProbeSettings;
  pod: V1Pod;
  container: V1Container;
  startedAtMs: number;
  podIP: string;
  state: ProbeState;
  timer?: NodeJS.Timeout;
  inFlight: boolean;
  stopped: boolean;
}

export function createProberManager(deps: ProberManagerDeps): ProberManager {
  const logger = deps.logger.child({ component: 'prober' });
  const tracing = deps.tracing ?? noTracing;
  const workers = new Map<string, ProbeWorker>();
  const changes = new Subject<string>();
  let stopped = false;

  const keyOf = (uid: string, container: string, kind: ProbeKind) => `${uid}/${container}/${kind}`;
  const sibling = (w: ProbeWorker, kind: ProbeKind) => {
    const s = workers.get(keyOf(w.uid, w.container.name, kind));
    return s && s.state.containerId === w.state.containerId ? s : undefined;
  };

  function schedule(w: ProbeWorker, ms: number): void {
    clearTimeout(w.timer);
    if (w.stopped || stopped) return;
    w.timer = setTimeout(() => {
      // One probe's surprise must not take the agent down: it is logged, and the probe goes on.
      tick(w).catch((err: unknown) => {
        w.inFlight = false;
        logger.error({ uid: w.uid, container: w.container.name, probe: w.kind, err }, 'probe run failed');
        schedule(w, w.settings.periodMs);
      });
    }, clampTimerMs(ms));
  }

  function stopWorker(w: ProbeWorker): void {
    w.stopped = true;
    clearTimeout(w.timer);
    workers.delete(w.key);
  }

  async function tick(w: ProbeWorker): Promise<void> {
    if (w.stopped || w.inFlight) return;
    const startup = w.kind === 'startup' ? undefined : sibling(w, 'startup');
    const gate = probeGate(w.kind, w.state, w.settings, {
      nowMs: Date.now(), startedAtMs: w.startedAtMs, startupPassed: startup ? startup.state.verdict === 'success' : undefined,
    });
    if (!gate.run) {
      // Held and passed probes wait for a new container; a passing startup probe wakes the others.
      if (gate.why === 'initialDelay') schedule(w, gate.retryInMs);
      else if (gate.why === 'awaitingStartup') schedule(w, w.settings.periodMs);
      return;
    }
    w.inFlight = true;
    const outcome = await tracing.podRoot(`probe.${w.kind}`, podIdentityOf(w.pod), { [CONTAINER_NAME]: w.container.name, [CONTAINER_ID]: w.state.containerId }, async () => {
      const o = await runProbe(w.probe, { containerId: w.state.containerId, container: w.container, podIP: w.podIP }, w.settings.timeoutSeconds, deps.exec);
      noteOnActiveSpan({ 'probe.result': o.result });
      if (o.result === 'failure') markActiveSpanFailed(o.output);
      return o;
    });
    w.inFlight = false;
    if (w.stopped) return;
    const fields = { ...podLogFields(podRefOf(w.pod)), uid: w.uid, container: w.container.name, probe: w.kind };
    if (outcome.result === 'failure') {
      deps.events.record(w.pod, { type: 'Warning', reason: 'Unhealthy', message: `${TITLE[w.kind]} probe failed: ${outcome.output}`, container: w.container.name });
    } else if (outcome.result === 'warning') {
      deps.events.record(w.pod, { type: 'Warning', reason: 'ProbeWarning', message: `${TITLE[w.kind]} probe warning: ${outcome.output}`, container: w.container.name });
    }
    const before = w.state.verdict;
    w.state = recordProbeResult(w.kind, w.state, outcome.result === 'failure' ? 'failure' : 'success', w.settings);
    if (w.state.verdict !== before) {
      logger.info({ ...fields, from: before, to: w.state.verdict, output: outcome.output }, `${w.kind} probe ${w.state.verdict}`);
      if (w.kind === 'startup' && w.state.verdict === 'success') {
        for (const kind of ['liveness', 'readiness'] as const) {
          const s = sibling(w, kind);
          if (s) schedule(s, 0);
        }
      }
      changes.next(w.uid);
    }
    schedule(w, w.settings.periodMs);
  }

  function newestRunning(name: string, sandboxId: string | undefined, containers: ObservedContainer[]): ObservedContainer | undefined {
    let newest: ObservedContainer | undefined;
    for (const c of containers) {
      if (c.name !== name || c.sandboxId !== sandboxId) continue;
      if (!newest || c.attempt > newest.attempt || (c.attempt === newest.attempt && c.createdAtMs > newest.createdAtMs)) newest = c;
    }
    return newest?.state === 'running' ? newest : undefined;
  }

  return {
    track(pod, observed, podIP) {
      if (stopped) return;
      const uid = observed.uid || pod.metadata!.uid!;
      const sandbox = observed.sandboxes[0];
      const wanted = new Set<string>();
      for (const container of longRunningContainersOf(pod)) {
        const instance = sandbox?.state === 'ready' ? newestRunning(container.name, sandbox.id, observed.containers) : undefined;
        for (const kind of KINDS) {
          const probe = kind === 'liveness' ? container.livenessProbe : kind === 'readiness' ? container.readinessProbe : container.startupProbe;
          if (!probe || !instance) continue;
          const key = keyOf(uid, container.name, kind);
          wanted.add(key);
          const existing = workers.get(key);
          if (existing && existing.state.containerId === instance.id) {
            existing.pod = pod;
            existing.podIP = podIP ?? existing.podIP;
            continue;
          }
          // A new container instance: its probes start over from their initial verdicts.
          if (existing) stopWorker(existing);
          const w: ProbeWorker = {
            key, uid, kind, probe, settings: probeSettingsOf(kind, probe), pod, container,
            startedAtMs: instance.startedAtMs ?? instance.createdAtMs, podIP: podIP ?? '',
            state: initialProbeState(kind, instance.id), inFlight: false, stopped: false,
          };
          workers.set(key, w);
          schedule(w, 0);
        }
      }
      for (const w of [...workers.values()]) if (w.uid === uid && !wanted.has(w.key)) stopWorker(w);
    },

    results(containerId) {
      let out: ContainerProbeResults | undefined;
      for (const w of workers.values()) {
        if (w.state.containerId !== containerId) continue;
        (out ??= {})[w.kind] = w.state.verdict;
      }
      return out;
    },

    terminating(uid) {
      for (const w of [...workers.values()]) if (w.uid === uid && w.kind !== 'readiness') stopWorker(w);
    },

    forget(uid) {
      for (const w of [...workers.values()]) if (w.uid === uid) stopWorker(w);
    },

    changes: changes.asObservable(),

    stop() {
      stopped = true;
      for (const w of [...workers.values()]) stopWorker(w);
      changes.complete();
    },
  };
}
