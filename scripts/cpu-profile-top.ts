// The functions that took the most self time in a V8 .cpuprofile (node --cpu-prof): each node's
// hitCount is samples taken while that function was on top of the stack; the same function
// appears under many parents, so nodes are summed by function name, file and line.
interface CpuProfileNode {
  id: number;
  hitCount?: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  /** µs from the previous sample (the first: from startTime), one per sample. */
  timeDeltas?: number[];
}

/** A span of the profiled process's monotonic clock, µs (process.hrtime's clock, as V8's profiler uses). */
export interface ProfileWindow { startUs: number; endUs: number }

export interface SelfTimeRow {
  function: string;
  url: string;
  self_s: number;
  self_pct: number;
}

/** Samples per node id: all of them, or those taken within the window. */
function hitsOf(profile: CpuProfile, window?: ProfileWindow): Map<number, number> {
  const hits = new Map<number, number>();
  if (!window || !profile.samples || !profile.timeDeltas) {
    for (const node of profile.nodes) if (node.hitCount) hits.set(node.id, node.hitCount);
    return hits;
  }
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas![i] ?? 0;
    if (at >= window.startUs && at <= window.endUs) hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  return hits;
}

/** The top functions by self time, over the whole profile or within a window of it. */
export function topSelfTime(profile: CpuProfile, top: number, window?: ProfileWindow): SelfTimeRow[] {
  const hits = hitsOf(profile, window);
  const totalHits = [...hits.values()].reduce((sum, h) => sum + h, 0);
  // startTime and endTime are microseconds; each sample stands for an equal share of the span.
  const spanUs = window ? Math.min(window.endUs, profile.endTime) - Math.max(window.startUs, profile.startTime) : profile.endTime - profile.startTime;
  const secondsPerHit = totalHits ? spanUs / 1e6 / totalHits : 0;
  const byFunction = new Map<string, { fn: string; url: string; hits: number }>();
  for (const node of profile.nodes) {
    const nodeHits = hits.get(node.id);
    if (!nodeHits) continue;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const short = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|src|dist)\//, '$1/');
    const where = url ? `${short}:${lineNumber + 1}:${columnNumber + 1}` : '';
    const key = `${functionName}\0${where}`;
    const row = byFunction.get(key) ?? { fn: functionName || '(anonymous)', url: where, hits: 0 };
    row.hits += nodeHits;
    byFunction.set(key, row);
  }
  return [...byFunction.values()].sort((a, b) => b.hits - a.hits).slice(0, top).map((r) => ({
    function: r.fn,
    url: r.url,
    self_s: Math.round(r.hits * secondsPerHit * 100) / 100,
    self_pct: totalHits ? Math.round((r.hits / totalHits) * 1000) / 10 : 0,
  }));
}
