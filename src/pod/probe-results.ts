// What the prober has concluded about a container instance, shared by the rooms that act on it:
// the runtime manager kills on a failed liveness or startup probe, the status shows readiness
// and `started`. Keyed by container ID, so a restarted container never inherits an old verdict.
export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** unknown: not decided yet (a startup probe that has not passed or failed). */
export type ProbeVerdict = 'unknown' | 'success' | 'failure';

/** The verdict of each probe the container has; a probe it does not have is absent. */
export type ContainerProbeResults = Partial<Record<ProbeKind, ProbeVerdict>>;

/** Looks up a container instance's verdicts; undefined when the prober holds none for it. */
export type ProbeResultsView = (containerId: string) => ContainerProbeResults | undefined;

export const noProbeResults: ProbeResultsView = () => undefined;
