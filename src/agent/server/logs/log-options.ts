// What `kubectl logs` asks (PodLogOptions in the query), checked as the kubelet checks it.
import { describeLogOptionProblem, readPodLogOptions } from '../../../pod/pod-log-options.ts';

/** PodLogOptions as the kubelet reads them, once validated. */
export interface LogOptions {
  follow: boolean;
  timestamps: boolean;
  /** Lines from the end of the file; undefined: all of it. */
  tailLines?: number;
  /** Output bytes at most; undefined: no limit. */
  limitBytes?: number;
  /** Entries older than this (ns since the epoch) are skipped. */
  sinceNs?: bigint;
}

export type ParsedLogQuery = { ok: true; options: LogOptions; previous: boolean } | { ok: false; message: string };

/** Query booleans as Kubernetes converts them: absent, empty, "0" and "false" are false, anything else true. */
function queryBool(v: string | null): boolean {
  return !(v === null || v === '' || v === '0' || v.toLowerCase() === 'false');
}

/**
 * The containerLogs query, checked by the pod rule (`src/pod/pod-log-options.ts`), as
 * ValidatePodLogOptions checks it. `nowMs` anchors sinceSeconds.
 */
export function parseLogQuery(query: URLSearchParams, nowMs: number): ParsedLogQuery {
  const read = readPodLogOptions(query);
  if (read.problems.length) return { ok: false, message: `invalid log options: ${read.problems.map(describeLogOptionProblem).join(', ')}` };
  const options: LogOptions = { follow: queryBool(query.get('follow')), timestamps: queryBool(query.get('timestamps')) };
  if (read.tailLines !== undefined) options.tailLines = read.tailLines;
  if (read.limitBytes !== undefined) options.limitBytes = read.limitBytes;
  if (read.sinceSeconds !== undefined) options.sinceNs = (BigInt(nowMs) - BigInt(read.sinceSeconds) * 1000n) * 1_000_000n;
  if (read.sinceTimeNs !== undefined) options.sinceNs = read.sinceTimeNs;
  return { ok: true, options, previous: queryBool(query.get('previous')) };
}
