// A pod's timeline: the spans of one pod's journey through the agent (watch event, admission,
// volumes, sandbox and CNI, image pulls, containers, status patches, kill and remove), as the
// bounded buffer keeps them and as the node API (/debug/pods/<ns>/<name>/timeline), its HTML
// page and `mini-kubelet trace` show them. Plain data: what the views need, nothing of the SDK.

/** A value as OpenTelemetry attributes carry it. */
export type TimelineValue = string | number | boolean;

export interface TimelineSpan {
  /** 16 hex digits, as OpenTelemetry's span ID. */
  spanId: string;
  /** The enclosing span's ID; absent for a root (one per sync, watch event or kill). */
  parentSpanId?: string;
  /** 32 hex digits; the spans of one pod may span several traces (one per sync). */
  traceId: string;
  /** What the step was: `pod.sync`, `RunPodSandbox`, `cni.add bridge`, `PullImage`, ... */
  name: string;
  /** When it began, milliseconds since the epoch (fractional). */
  startMs: number;
  /** How long it took, milliseconds (fractional); a span still open has the time so far. */
  durationMs: number;
  /** `error` when the step failed; `message` then says why. */
  status: 'ok' | 'error';
  message?: string;
  /** The key facts: the reason computePodActions gave, image, sandbox ID, IP, the CRI response's key fields. */
  attributes: Record<string, TimelineValue>;
  /** True while the step has not ended (a pull in progress). */
  open?: boolean;
}

export interface PodTimeline {
  pod: { namespace: string; name: string; uid: string };
  node: string;
  /** Oldest first; parents before their children when they start at the same time. */
  spans: TimelineSpan[];
  /** Spans dropped from this pod's timeline once it held its maximum (the oldest go first). */
  droppedSpans: number;
}

/** Where the views read timelines: the agent's bounded buffer. */
export interface PodTimelines {
  /** The newest pod with this namespace and name (a pod deleted and created again: the new one). */
  timelineOf(namespace: string, name: string): PodTimeline | undefined;
  /** The pods with a timeline, newest first. */
  pods(): Array<PodTimeline['pod']>;
}
